import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GC_BUCKETS, GcDurations, Metrics } from './metrics.ts';

it('counts requests per series and code, and their latencies in upstream buckets', () => {
  const metrics = new Metrics();
  const get = { verb: 'GET', group: '', version: 'v1', resource: 'pods', subresource: '' };
  metrics.observe(get, 200, 0.004);
  metrics.observe({ ...get }, 200, 0.03);
  metrics.observe(get, 404, 0.001);
  metrics.observe({ ...get, subresource: 'status' }, 200, 2.5);
  metrics.observe({ ...get, verb: 'LIST', group: 'apps', resource: 'deployments' }, 200, 0.2);
  const text = metrics.render();
  const labels = 'verb="GET",group="",version="v1",resource="pods",subresource=""';
  assert.match(text, new RegExp(`^apiserver_request_total\\{${labels},code="200"\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^apiserver_request_total\\{${labels},code="404"\\} 1$`, 'm'));
  assert.match(text, /^apiserver_request_total\{verb="GET",group="",version="v1",resource="pods",subresource="status",code="200"\} 1$/m);
  assert.match(text, /^apiserver_request_total\{verb="LIST",group="apps",version="v1",resource="deployments",subresource="",code="200"\} 1$/m);
  assert.match(text, new RegExp(`^apiserver_request_duration_seconds_bucket\\{${labels},le="0.005"\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^apiserver_request_duration_seconds_bucket\\{${labels},le="0.025"\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^apiserver_request_duration_seconds_bucket\\{${labels},le="0.05"\\} 3$`, 'm'));
  assert.match(text, new RegExp(`^apiserver_request_duration_seconds_count\\{${labels}\\} 3$`, 'm'));
  assert.match(text, /^apiserver_request_duration_seconds_bucket\{verb="GET",group="",version="v1",resource="pods",subresource="status",le="2"\} 0$/m);
  assert.match(text, /^apiserver_request_duration_seconds_bucket\{verb="GET",group="",version="v1",resource="pods",subresource="status",le="3"\} 1$/m);
});

it('renders counters and histograms read when scraped', () => {
  const metrics = new Metrics();
  let commits = 3;
  metrics.counter('store_commits_total', 'Commits.', () => commits);
  metrics.histogram('store_sync_seconds', 'Syncs.', () => ({ bounds: [0.001, 0.002, 0.004], counts: [1, 3, 3], sum: 0.0071, count: 4 }));
  commits = 5;
  const text = metrics.render();
  assert.match(text, /^# TYPE store_commits_total counter\nstore_commits_total 5$/m);
  assert.match(text, /^# HELP store_sync_seconds Syncs\.\n# TYPE store_sync_seconds histogram$/m);
  const lines = text.split('\n').filter((line) => line.startsWith('store_sync_seconds'));
  assert.deepEqual(lines, [
    'store_sync_seconds_bucket{le="0.001"} 1',
    'store_sync_seconds_bucket{le="0.002"} 3',
    'store_sync_seconds_bucket{le="0.004"} 3',
    'store_sync_seconds_bucket{le="+Inf"} 4',
    'store_sync_seconds_sum 0.0071',
    'store_sync_seconds_count 4',
  ]);
});

it("renders one series per label set, as this thread's collections by kind", () => {
  const gc = new GcDurations();
  gc.record('minor', 0.0005);
  gc.record('minor', 0.0025);
  gc.record('major', 0.022);
  const metrics = new Metrics();
  metrics.histogram('nodejs_gc_duration_seconds', 'Collections.', () => gc.readings());
  const lines = metrics.render().split('\n').filter((line) => line.startsWith('nodejs_gc_duration_seconds'));
  assert.deepEqual(GC_BUCKETS, [0.001, 0.01, 0.1, 1, 2, 5]);
  assert.deepEqual(lines.slice(0, 9), [
    'nodejs_gc_duration_seconds_bucket{kind="minor",le="0.001"} 1',
    'nodejs_gc_duration_seconds_bucket{kind="minor",le="0.01"} 2',
    'nodejs_gc_duration_seconds_bucket{kind="minor",le="0.1"} 2',
    'nodejs_gc_duration_seconds_bucket{kind="minor",le="1"} 2',
    'nodejs_gc_duration_seconds_bucket{kind="minor",le="2"} 2',
    'nodejs_gc_duration_seconds_bucket{kind="minor",le="5"} 2',
    'nodejs_gc_duration_seconds_bucket{kind="minor",le="+Inf"} 2',
    'nodejs_gc_duration_seconds_sum{kind="minor"} 0.003',
    'nodejs_gc_duration_seconds_count{kind="minor"} 2',
  ]);
  assert.ok(lines.includes('nodejs_gc_duration_seconds_bucket{kind="major",le="0.01"} 0'));
  assert.ok(lines.includes('nodejs_gc_duration_seconds_bucket{kind="major",le="0.1"} 1'));
  assert.ok(lines.includes('nodejs_gc_duration_seconds_count{kind="major"} 1'));
});

it("hears of this thread's real collections while started, and of none after", async () => {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  const gc = new GcDurations();
  const major = () => gc.readings().find((r) => r.labels === 'kind="major"')?.count ?? 0;
  gc.start();
  collect();
  // The observer hears of a collection a moment later.
  for (let i = 0; i < 100 && major() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(major() >= 1, 'a full collection was counted');
  const reading = gc.readings().find((r) => r.labels === 'kind="major"')!;
  assert.ok(reading.sum > 0 && reading.counts.at(-1)! <= reading.count);
  gc.stop();
  const counted = major();
  collect();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(major(), counted, 'none after stop');
});
