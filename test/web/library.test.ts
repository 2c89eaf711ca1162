/**
 * The library page in Debian's chromium against the local stack: titles set
 * through the API show, a video is renamed, filtered by state, retried and
 * deleted from its card.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { VideoRecord } from '@vod/client';
import { startStack, type TestStack } from '../support/stack.js';
import { CHROMIUM, buildWeb, collectPageErrors, launchChromium } from './helpers.js';

describe('web library in chromium: titles, rename, filter, retry, delete', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    buildWeb(); // before the stack: the edge serves web/dist only if it exists at start
    [stack, browser] = await Promise.all([startStack({ transcodeWorkers: 1, env: { POLL_WAIT_SECONDS: '1' } }), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const auth = () => ({ authorization: `Bearer ${stack.token}` });
  const record = async (id: string) => {
    const res = await fetch(`${stack.baseUrl}/api/videos/${id}`, { headers: auth() });
    return { status: res.status, body: (await res.json()) as VideoRecord };
  };
  /** Not a video: its transcode fails fast. */
  async function uploadNotAVideo(name: string): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(2048, 7)]), name);
    const res = await fetch(`${stack.baseUrl}/api/videos`, { method: 'POST', headers: auth(), body: form });
    return ((await res.json()) as { videoId: string }).videoId;
  }
  async function until(cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('shows titles, renames, filters, retries and deletes from the cards', async () => {
    const a = await uploadNotAVideo('minutes-a.mp4');
    const b = await uploadNotAVideo('minutes-b.mp4');
    await until(async () => (await record(a)).body.status === 'failed' && (await record(b)).body.status === 'failed');
    await fetch(`${stack.baseUrl}/api/videos/${a}`, { method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Quarterly review' }) });

    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${stack.baseUrl}/library#token=${encodeURIComponent(stack.token)}`);
    const card = (id: string) => page.locator(`[data-testid="video-card"][data-video-id="${id}"]`);

    // The title set through the API, with the file name beneath it; the other card by its file name.
    await card(a).getByTestId('video-title').filter({ hasText: 'Quarterly review' }).waitFor();
    expect(await card(a).textContent()).to.contain('minutes-a.mp4');
    expect(await card(b).getByTestId('video-title').textContent()).to.equal('minutes-b.mp4');

    // Rename from the card.
    await card(b).getByRole('button', { name: 'Rename minutes-b.mp4' }).click();
    await card(b).getByLabel('Title').fill('Board minutes');
    await card(b).getByRole('button', { name: 'Save' }).click();
    await card(b).getByTestId('video-title').filter({ hasText: 'Board minutes' }).waitFor();
    expect((await record(b)).body.title).to.equal('Board minutes');

    // Filter by state.
    await page.getByLabel('Show videos').selectOption('ready');
    await page.getByText('No ready videos.').waitFor();
    await page.getByLabel('Show videos').selectOption('failed');
    await card(a).waitFor();
    await card(b).waitFor();

    // Retry: the API accepts it (202) for the failed video.
    const retried = page.waitForResponse((r) => r.url().endsWith(`/api/videos/${a}/retry`) && r.request().method() === 'POST');
    await card(a).getByRole('button', { name: 'Retry Quarterly review' }).click();
    expect((await retried).status()).to.equal(202);

    // Delete, after the confirmation.
    page.once('dialog', (d) => void d.accept());
    await card(b).getByRole('button', { name: 'Delete Board minutes' }).click();
    await card(b).waitFor({ state: 'detached' });
    expect((await record(b)).status).to.equal(404);
    expect(errors, errors.join('\n')).to.deep.equal([]);
    await context.close();
  });
});
