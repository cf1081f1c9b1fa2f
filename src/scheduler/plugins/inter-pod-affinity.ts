import { skip, success, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.ts';
export const interPodAffinity = {
  name: 'InterPodAffinity',
  preFilter() { return skip; },
  filter() { return success; },
  preScore() { return skip; },
  score() { return 0; },
} satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
