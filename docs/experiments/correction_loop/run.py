"""What staff corrections buy: simulate the 研判模型 loop on the fresh rows (README.md beside this file).

Round 5 of the fresh file plays the stream staff read with the committed model; the corrections they
would make become `train(corrections=...)`; round 6 (never corrected, never trained on) judges the result.

Usage: python docs/experiments/correction_loop/run.py RESULTS.json [SCENARIOS] [SEEDS]
       e.g. run.py /tmp/loop.json none,flags,handled,review,all 0,1,2
"""
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from sentiment import dataset, train as T  # noqa: E402
from sentiment.judge import load_judge  # noqa: E402
from sentiment.judgement import REVIEW_P  # noqa: E402
from sentiment.train import report_judgements  # noqa: E402

fresh = dataset.read_jsonl(dataset.FRESH_FILE)
num = lambda e: int(e.id.split('-')[1])  # noqa: E731
r5 = [e for e in fresh if num(e) <= 1336]
r6 = [e for e in fresh if num(e) > 1336]
held = dataset.split(dataset.load_examples())[1]
KEYS = ('f1', 'accuracy', 'precision', 'recall', 'average_precision', 'polarity_macro_f1', 'off_topic_flagged')


def corrections(scenario: str) -> list[dict]:
    """The corrections staff would make on round 5, reading what the committed model shows them."""
    if scenario == 'none':
        return []
    judge = load_judge()
    out = []
    for i, e in enumerate(r5):
        j = judge.judge(e.title, e.text)
        base = {'title': e.title, 'text': e.text, 'created_at': '2026-11-26T00:00:00+00:00', 'item_id': 900000 + i}
        off = e.topic == 'off'
        if scenario == 'all':            # every row read and corrected: the upper bound
            out.append(base | {'field': 'topic', 'value': 'off'} if off else
                       base | {'field': 'negative', 'value': 'yes' if e.negative else 'no'})
            continue
        if j.negative and not e.negative:  # a wrong flag: 误判, or 与知识产权无关 for a look-alike
            out.append(base | ({'field': 'topic', 'value': 'off'} if off else {'field': 'negative', 'value': 'no'}))
        elif scenario == 'handled' and j.negative and e.negative:
            # a right flag that staff took into 负面处置: confirmed negative
            out.append(base | {'field': 'negative', 'value': 'yes'})
        elif scenario == 'review' and not j.negative and j.p_negative >= REVIEW_P:
            # the 疑似负面 band read too: confirm negatives, clear the rest
            out.append(base | ({'field': 'topic', 'value': 'off'} if off else
                               {'field': 'negative', 'value': 'yes' if e.negative else 'no'}))
    return out


def main() -> int:
    if '--corrections-off-operating-point' in sys.argv:
        # Variant: correction rows are trained on but, like the hard-case file, set neither calibration
        # nor threshold (staff correct the model's errors, so they are look-alikes by selection).
        sys.argv.remove('--corrections-off-operating-point')
        dataset.Example.hard_case = property(lambda e: e.source in (dataset.HARD_FILE.name, 'correction'))
    out_path = Path(sys.argv[1])
    scenarios = (sys.argv[2] if len(sys.argv) > 2 else 'none,flags,review,all').split(',')
    seeds = [int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else '0,1,2').split(',')]
    res = json.loads(out_path.read_text()) if out_path.exists() else {}
    base_seed = T.SEED
    for sc in scenarios:
        corr = corrections(sc)
        for s in seeds:
            key = f'{sc}_s{s}'
            if key in res:
                continue
            T.SEED = base_seed + s
            t = time.time()
            out = out_path.parent / 'models' / key
            card = T.train(corrections=corr, out_dir=out, refresh_tables=False, log=lambda m: None)
            judge = load_judge(out / 'judge_model.json')
            r = {'corrections': len(corr), 'threshold': card['stacker']['threshold']}
            for name, exs in (('round6', r6), ('heldout', held)):
                rep = report_judgements([judge.judge(e.title, e.text) for e in exs], exs)
                r[name] = {k: rep.get(k) for k in KEYS}
            r['reference'] = {k: card['heldout_by_file']['ip_opinion_dev.jsonl'].get(k) for k in KEYS}
            res[key] = r
            out_path.write_text(json.dumps(res, indent=1))
            print(key, len(corr), round(time.time() - t), 's',
                  {n: (r[n]['f1'], r[n]['average_precision'], r[n]['accuracy']) for n in ('round6', 'reference', 'heldout')},
                  flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
