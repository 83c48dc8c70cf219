"""Time implicit's CosineRecommender build (K neighbours) on a ratings file, for
`reckit-bench fit --model itemknn` on the same data. Prints one JSON line.
usage: peer_itemknn.py FILE [K]   (threads: PEERS_THREADS, default 2)"""
import json, os, sys, time

threads = int(os.environ.get("PEERS_THREADS", "2"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender

path, k = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20
frame = pd.read_csv(path)
users = np.unique(frame.iloc[:, 0].to_numpy(), return_inverse=True)[1]
items = np.unique(frame.iloc[:, 1].to_numpy(), return_inverse=True)[1]
matrix = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)))
matrix.sum_duplicates()
matrix.data[:] = 1
runs = []
for _ in range(3):
    model = CosineRecommender(K=k, num_threads=threads)
    start = time.perf_counter()
    model.fit(matrix, show_progress=False)
    runs.append(time.perf_counter() - start)
print(json.dumps({"library": "implicit", "model": "CosineRecommender", "K": k, "threads": threads,
                  "nnz": int(matrix.nnz), "seconds": runs, "median_seconds": float(np.median(runs))}))
