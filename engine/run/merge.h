/* merge.h: `tide merge DIR... --out DIR`: one run folder from the folders of the N segments of
 * a split test (docs/distributed.md). Each segment's folder is verified first (manifest and
 * audit chain); its seconds.jsonl holds every second's registry losslessly, so the merged
 * folder is the report of the whole test: histograms merged exactly, counters summed, seconds
 * merged by wall clock, thresholds (windowed ones too) and the default checks judged on the
 * merged data, every report file written by the report layer, a manifest listing the
 * segments' manifest hashes. Refuses (exit 2, one line) overlapping or missing segments and
 * segments of different scenarios or options; exit 99 when a threshold fails. */
#ifndef TIDE_MERGE_H
#define TIDE_MERGE_H

/* argv[0] is "merge". Returns the exit code. */
int tide_merge_main(int argc, char **argv);

#endif
