import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Metrics } from './metrics.ts';

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
