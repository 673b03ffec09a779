#!/usr/bin/env python3
"""Day-2 mean surface PM2.5 and its secondary inorganic shares at the
city-centre sites of a run's <name>.sites.csv."""
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
acc = collections.defaultdict(lambda: collections.defaultdict(float))
n = collections.Counter()
for r in rows:
    if float(r['time_start']) < 24: continue
    s = r['site']; n[s] += 1
    for k in ('PM25_TOTAL','SO4','NO3','NH4','SO2','NOX','O3'):
        if k in r: acc[s][k] += float(r[k])
print(f"{'site':10} {'PM2.5':>7} {'SO4%':>6} {'NO3%':>6} {'NH4%':>6} {'SIA%':>6} {'SO2':>6} {'NOX':>6} {'O3':>6}")
for s in acc:
    m = {k: v/n[s] for k, v in acc[s].items()}
    pm = m['PM25_TOTAL']
    sia = (m['SO4']+m['NO3']+m['NH4'])/pm*100
    print(f"{s:10} {pm:7.1f} {m['SO4']/pm*100:6.1f} {m['NO3']/pm*100:6.1f} {m['NH4']/pm*100:6.1f} {sia:6.1f} {m['SO2']:6.1f} {m['NOX']:6.1f} {m.get('O3',float('nan')):6.1f}")
