"""Dev-file weight experiment: retrain with the rule authors' rows weighted w (README.md beside this file).

Usage: run.py RESULTS.json WEIGHTS SEEDS PATCHED_CHECKOUT, e.g. run.py /tmp/w.json 1,2,3 0,1,2 /tmp/devw
"""
import json, sys, time
sys.path.insert(0, sys.argv[4] if len(sys.argv) > 4 else '.')
from pathlib import Path
from sentiment import train as T, dataset
from sentiment.judge import load_judge
from sentiment.train import report, report_judgements
L = Path(sys.path[0]) / 'data' / 'labelled'
fresh = dataset.read_jsonl(L / 'ip_opinion_fresh.jsonl')
eg = {l.split('\t')[1].strip() for l in open(L / 'qc/round5_ids.tsv') if l[:4] in ('r5e-', 'r5f-', 'r5g-')}
num = lambda e: int(e.id.split('-')[1])
subsets = {'r5ad': [e for e in fresh if num(e) <= 1336 and e.id not in eg], 'r5eg': [e for e in fresh if e.id in eg],
           'r6': [e for e in fresh if num(e) > 1336]}
# The held-out rows outside the dev file (the dev file's own held-out rows are the model card's reference rows).
held_nd = [e for e in dataset.split(dataset.load_examples())[1] if e.source != 'ip_opinion_dev.jsonl']
KEYS = ('f1', 'accuracy', 'average_precision', 'polarity_macro_f1', 'off_topic_flagged', 'publicity_fp_rate')
out_path = Path(sys.argv[1]); weights = [float(x) for x in sys.argv[2].split(',')]; seeds = [int(x) for x in sys.argv[3].split(',')]
res = json.loads(out_path.read_text()) if out_path.exists() else {}
BASE_SEED = T.SEED
for w in weights:
    for s in seeds:
        key = f'w{w:g}_s{s}'
        if key in res: continue
        T.SOURCE_WEIGHT = {'ip_opinion_dev.jsonl': w}
        T.SEED = BASE_SEED + s
        d, t = {}, time.time()
        out = out_path.parent / 'models' / key
        card = T.train(out_dir=out, refresh_tables=False, debug=d, log=lambda m: None)
        ex, oof = d['train'], d['oof']
        idx = [i for i, e in enumerate(ex) if e.source == 'ip_opinion_dev.jsonl']
        r = {'devoof': report([oof[i] for i in idx], [ex[i] for i in idx], ['' for _ in idx])}
        r['reference'] = card['heldout_by_file']['ip_opinion_dev.jsonl']
        judge = load_judge(out / 'judge_model.json')
        r['heldout_nondev'] = report_judgements([judge.judge(e.title, e.text) for e in held_nd], held_nd)
        for n, exs in subsets.items():
            r[n] = report_judgements([judge.judge(e.title, e.text) for e in exs], exs)
        r['fresh'] = card['fresh']
        r['threshold'] = card['stacker']['threshold']
        res[key] = {k: ({m: v.get(m) for m in KEYS} if isinstance(v, dict) else v) for k, v in r.items()}
        out_path.write_text(json.dumps(res, indent=1))
        print(key, round(time.time() - t), 's', {k: (v['f1'], v['average_precision']) for k, v in res[key].items() if isinstance(v, dict)}, flush=True)
