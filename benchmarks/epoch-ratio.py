"""RecKit's epoch time against a PyTorch peer's, as one JSON line: the epoch is (long − short) / (its
epochs − short's epochs) of two RecKit fit times, so loading and set-up do not count.

    python benchmarks/epoch-ratio.py NAME SHORT_SECONDS SHORT_EPOCHS LONG_SECONDS LONG_EPOCHS TORCH_JSON THREADS
"""

import json
import sys

name, short, short_epochs, long, long_epochs, torch, threads = sys.argv[1:8]
epoch = (float(long) - float(short)) / (int(long_epochs) - int(short_epochs))
peer = json.loads(torch)["seconds_per_epoch"]
print(json.dumps({"benchmark": name + "-epoch", "threads": int(threads), "reckit_seconds_per_epoch": round(epoch, 4),
                  "pytorch_seconds_per_epoch": round(peer, 4), "ratio": round(epoch / peer, 3)}))
