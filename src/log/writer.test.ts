import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrame } from './format.ts';
import { readFrames, readLogDir, readSegmentFile } from './reader.ts';
import { FakeLogFile, injectedError, MOUNT_ID_TEST, testEvents, withTempDir } from './testing.ts';
import { LogWriter, openLogForAppend, openSegment, writerLimitsDefault, WRITTEN } from './writer.ts';
import type { WriterLimits } from './writer.ts';

function fakeWriter(limits: Partial<WriterLimits> = {}): { file: FakeLogFile; writer: LogWriter } {
  const file = new FakeLogFile();
  const options = { path: 'fake.log', mountId: MOUNT_ID_TEST, bytesWritten: 0, nextSeq: 1, limits: { ...writerLimitsDefault, ...limits } };
  return { file, writer: new LogWriter(file, options) };
}

function eventsIn(buf: Buffer): unknown[] {
  return [...readFrames(buf, 0)].flatMap((step) => (step.kind === 'record' ? [step.value] : []));
}

function framesBytes(events: readonly object[]): number {
  return events.reduce((sum: number, event) => sum + encodeFrame(event).length, 0);
}

const frameBytes = framesBytes(testEvents(1));

describe('LogWriter', () => {
  it('writes frames in call order, whatever mix of durable and non-durable appends', async () => {
    const { file, writer } = fakeWriter();
    const all = testEvents(10);
    await Promise.all(all.map((event, i) => writer.append([event], { durable: i % 3 === 0 })));
    assert.deepEqual(eventsIn(file.contents), all);
    assert.equal(writer.bytesWritten, file.contents.length);
    assert.equal(writer.nextSeq, 11);
  });

  it('resolves a non-durable append once its bytes are written, with no datasync', async () => {
    const { file, writer } = fakeWriter();
    for (const event of testEvents(5)) {
      await writer.append([event], { durable: false });
      assert.deepEqual(eventsIn(file.contents).at(-1), event, 'bytes are in the file when the append resolves');
    }
    assert.equal(file.datasyncCount, 0);
  });

  it('resolves a durable append only after a datasync that covers it', async () => {
    const { file, writer } = fakeWriter();
    for (const event of testEvents(3)) {
      await writer.append([event], { durable: true });
      assert.deepEqual(eventsIn(file.durable).at(-1), event);
    }
  });

  it('shares one write and one datasync among appends made in the same tick', async () => {
    const { file, writer } = fakeWriter();
    await Promise.all(testEvents(100).map((event) => writer.append([event], { durable: true })));
    assert.ok(file.datasyncCount <= 2, `${file.datasyncCount} datasyncs for 100 appends`);
    assert.equal(file.writeSizes.length, 1);
    assert.deepEqual(eventsIn(file.durable), testEvents(100));
  });

  it('batches appends made during an fsync into the next single write and datasync', async () => {
    const { file, writer } = fakeWriter();
    const first = writer.append(testEvents(1), { durable: true });
    await waitFor(() => file.writeSizes.length === 1);
    const resume = file.pause(); // the first datasync is now held
    const later = testEvents(49, 2).map((event) => writer.append([event], { durable: true }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    resume();
    await Promise.all([first, ...later]);
    assert.deepEqual(file.writeSizes, [frameBytes, framesBytes(testEvents(49, 2))]);
    assert.equal(file.datasyncCount, 2);
  });

  it('splits a cycle into writes of at most batchBytesMax, still sharing one datasync', async () => {
    const all = testEvents(10);
    const { file, writer } = fakeWriter({ batchBytesMax: framesBytes(all.slice(0, 3)) });
    await Promise.all(all.map((event) => writer.append([event], { durable: true })));
    const expected = [all.slice(0, 3), all.slice(3, 6), all.slice(6, 9), all.slice(9)].map(framesBytes);
    assert.deepEqual(file.writeSizes, expected);
    assert.equal(file.datasyncCount, 1);
  });

  it('makes appends beyond pendingAppendsMax wait their turn instead of joining the batch', async () => {
    const { file, writer } = fakeWriter({ pendingAppendsMax: 2 });
    const resume = file.pause();
    const appends = testEvents(5).map((event) => writer.append([event], { durable: false }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    resume();
    await Promise.all(appends);
    assert.equal(file.writeSizes[0], framesBytes(testEvents(2)), 'only the admitted appends are in the first write');
    assert.deepEqual(eventsIn(file.contents), testEvents(5));
  });

  it('rejects every waiting append when fdatasync fails, and refuses all later ones', async () => {
    const { file, writer } = fakeWriter();
    file.datasyncError = injectedError('EIO');
    const results = await Promise.allSettled(testEvents(3).map((event) => writer.append([event], { durable: true })));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.match(String((results[0] as PromiseRejectedResult).reason), /fdatasync of fake.log failed: EIO.*refuses further appends/);
    assert.ok(writer.poisoned);
    await assert.rejects(writer.append(testEvents(1, 4), { durable: false }), /refuses further appends/);
    await assert.rejects(writer.sync(), /refuses further appends/);
    await assert.rejects(writer.close(), /refuses further appends/);
    assert.ok(file.closed, 'close still closes the file');
  });

  it('cuts a torn write back to the last whole frame, rejects it and the appends queued behind it', async () => {
    const { file, writer } = fakeWriter();
    await writer.append(testEvents(2), { durable: false });
    const good = Buffer.from(file.contents);
    file.tornWriteBytes = 5;
    const torn = writer.append(testEvents(1, 3), { durable: true });
    const queued = torn.catch(() => undefined).then(() => writer.append(testEvents(1, 4), { durable: false }));
    await assert.rejects(torn, /write to fake.log failed: EIO/);
    await assert.rejects(queued, /write to fake.log failed/);
    assert.ok(file.contents.equals(good));
  });

  it('refuses an event whose seq does not continue the log, without writing or poisoning', async () => {
    const { file, writer } = fakeWriter();
    await assert.rejects(writer.append(testEvents(1, 2), { durable: false }), /event seq 2 where 1 was expected/);
    await assert.rejects(writer.append([{ seq: 1 }], { durable: false }), TypeError);
    assert.equal(file.writeSizes.length, 0);
    await writer.append(testEvents(1), { durable: false });
    assert.equal(writer.poisoned, null);
  });

  it('encodes at append time, so callers may reuse the event objects', async () => {
    const { file, writer } = fakeWriter();
    const event = { type: 'test', seq: 1, data: Buffer.from('before') };
    const done = writer.append([event], { durable: false });
    event.data.write('after!');
    await done;
    assert.deepEqual(eventsIn(file.contents), [{ type: 'test', seq: 1, data: Buffer.from('before') }]);
  });

  it('syncs only what was not yet synced, and close flushes and syncs everything', async () => {
    const { file, writer } = fakeWriter();
    await writer.sync();
    assert.equal(file.datasyncCount, 0, 'nothing written: nothing to sync');
    await writer.append(testEvents(2), { durable: false });
    await writer.sync();
    assert.equal(file.datasyncCount, 1);
    void writer.append(testEvents(1, 3), { durable: false });
    await writer.close();
    assert.deepEqual(eventsIn(file.durable), testEvents(3));
    assert.ok(file.closed);
    await assert.rejects(writer.append(testEvents(1, 4), { durable: false }), /closed/);
  });

  it('never loses an acknowledged durable append to a power loss, and loses only a suffix', async () => {
    const property = fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), fc.nat(), async (durables, keptSeed) => {
      const { file, writer } = fakeWriter();
      const all = testEvents(durables.length);
      let acknowledged = 0;
      await Promise.all(all.map((event, i) => writer.append([event], { durable: durables[i]! }).then(() => {
        if (durables[i]) acknowledged = Math.max(acknowledged, i + 1);
      })));
      const unsynced = file.contents.length - file.durable.length;
      const survivors = eventsIn(file.afterPowerLoss(keptSeed % (unsynced + 1)));
      assert.deepEqual(survivors, all.slice(0, survivors.length));
      assert.ok(survivors.length >= acknowledged);
    });
    await fc.assert(property, { seed: 42, numRuns: 300 });
  });
});

describe('LogWriter: appends written at once', () => {
  function atOnceWriter(): { file: FakeLogFile; writer: LogWriter } {
    const made = fakeWriter();
    made.file.writesAtOnce = true;
    return made;
  }

  it('writes a non-durable append with nothing ahead before returning, and answers WRITTEN', () => {
    const { file, writer } = atOnceWriter();
    const events = testEvents(3);
    for (const event of events) assert.equal(writer.append([event], { durable: false }), WRITTEN);
    assert.deepEqual(eventsIn(file.contents), events, 'in the file before any turn of the event loop');
    assert.equal(writer.bytesWritten, file.contents.length);
    assert.equal(file.datasyncCount, 0);
  });

  it('keeps call order: a non-durable append behind a queued durable one waits its turn', async () => {
    const { file, writer } = atOnceWriter();
    const all = testEvents(6);
    const answers = all.map((event, i) => writer.append([event], { durable: i === 1 }));
    assert.equal(answers[0], WRITTEN);
    assert.notEqual(answers[2], WRITTEN, 'queued behind the durable append');
    await Promise.all(answers);
    assert.deepEqual(eventsIn(file.contents), all);
    assert.equal(file.datasyncCount, 1);
    assert.equal(writer.append(testEvents(1, 7), { durable: false }), WRITTEN, 'at once again when nothing is ahead');
    assert.deepEqual(eventsIn(file.contents), testEvents(7));
  });

  it('writes at once while a datasync runs, and the datasync still covers only what came before it', async () => {
    const { file, writer } = atOnceWriter();
    const durable = writer.append(testEvents(1), { durable: true });
    // Until the batch is written: its datasync is then under way.
    while (file.writeSizes.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(file.datasyncCount, 0);
    assert.equal(writer.append(testEvents(1, 2), { durable: false }), WRITTEN);
    await durable;
    assert.deepEqual(eventsIn(file.contents), testEvents(2));
    assert.equal(writer.bytesSynced, frameBytes, 'the datasync promised only the bytes written before it began');
    await writer.sync();
    assert.equal(writer.bytesSynced, file.contents.length);
  });

  it('declines to write at once while the file is busy, and queues instead', async () => {
    const { file, writer } = atOnceWriter();
    const resume = file.pause();
    const answer = writer.append(testEvents(1), { durable: false });
    assert.notEqual(answer, WRITTEN);
    assert.equal(file.contents.length, 0);
    resume();
    await answer;
    assert.deepEqual(eventsIn(file.contents), testEvents(1));
  });

  it('a torn write made at once is cut back, rejected, and stops the writer', async () => {
    const { file, writer } = atOnceWriter();
    assert.equal(writer.append(testEvents(2), { durable: false }), WRITTEN);
    const good = Buffer.from(file.contents);
    file.tornWriteBytes = 5;
    await assert.rejects(writer.append(testEvents(1, 3), { durable: false }), /write to fake.log failed: EIO/);
    assert.ok(writer.poisoned);
    await assert.rejects(writer.append(testEvents(1, 4), { durable: false }), /write to fake.log failed/);
    await new Promise((resolve) => setImmediate(resolve)); // the cut runs asynchronously
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(file.contents.equals(good));
    assert.equal(writer.bytesWritten, good.length);
  });
});

describe('segment files', () => {
  it('openSegment creates a segment with its header that reads back what was appended', async () => {
    await withTempDir(async (dir) => {
      const writer = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 }, writerLimitsDefault);
      await writer.append(testEvents(3), { durable: true });
      await writer.close();
      const read = await readSegmentFile(writer.path);
      assert.deepEqual(read.events, testEvents(3));
      assert.equal(read.end, 'clean');
      await assert.rejects(openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 }), /already exists/);
    });
  });

  it('openLogForAppend cuts a torn tail once and continues the newest segment', async () => {
    await withTempDir(async (dir) => {
      const first = await openLogForAppend(await readLogDir(dir));
      await first.append(testEvents(3), { durable: true });
      await first.close();
      const whole = await readFile(first.path);
      await writeFile(first.path, whole.subarray(0, whole.length - 4));
      const torn = await readLogDir(dir);
      assert.equal(torn.tornTails.length, 1);
      const second = await openLogForAppend(torn);
      assert.equal(second.path, first.path);
      assert.equal((await stat(first.path)).size, torn.tail?.validBytes);
      await second.append(testEvents(2, 3), { durable: true });
      await second.close();
      const again = await readLogDir(dir);
      assert.deepEqual(again.events, testEvents(4));
      assert.deepEqual(again.tornTails, []);
      assert.deepEqual(again.mountId, first.mountId);
    });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
