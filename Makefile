# RecKit: the two commands of the README.
#   make demo  — install missing system packages, build (release), generate the synthetic data set, run the main job
#   make test  — build and run the test suite (what CI runs)
SHELL := /bin/bash
SWIFT ?= swift
# Hand-written hot loops need AVX2 or better; haswell is a safe floor on x86-64 since 2013.
# `make demo CPU_FLAGS=` gives a portable build.
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
CPU_FLAGS ?= -Xswiftc -target-cpu -Xswiftc haswell
else
CPU_FLAGS ?=
endif
# The test process on OpenBLAS's kernels for this CPU even where it is newer than OpenBLAS
# (scripts/with-blas-kernels.sh; `reckit` itself restarts on them, see BLASLibrary).
BLAS := ./scripts/with-blas-kernels.sh
DEMO_DIR ?= demo-output
SEED ?= 42
PRESET ?= small

.PHONY: demo test fuzz lint format deps build release bench-parse bench-topk bench-peers bench-spark bench-autorec \
	bench-multvae bench-gru4rec bench-sasrec bench-youtubednn bench-features bench-serve check-api bench-linear bench-frontier bench-tune \
	bench-ann clean

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release $(CPU_FLAGS)

# Tests run optimised (with -enable-testing for @testable imports): the model tests train real
# models, which debug builds run tens of times slower. Preconditions stay on in -O builds.
# A scratch folder of its own keeps these flags from rebuilding the demo build (and back).
TEST_FLAGS := -c release -Xswiftc -enable-testing --scratch-path .build-test
test: deps lint
	@./scripts/install-test-deps.sh
	$(SWIFT) build $(TEST_FLAGS) --build-tests --explicit-target-dependency-import-check error
	$(BLAS) $(SWIFT) test $(TEST_FLAGS) --skip-build --parallel --num-workers 2

# The readers under a million mutated inputs (make test runs a few thousand); FUZZ_SEED picks another stream.
FUZZ_INPUTS ?= 1000000
FUZZ_SEED ?= 1
fuzz: deps
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	RECKIT_FUZZ_INPUTS=$(FUZZ_INPUTS) RECKIT_FUZZ_SEED=$(FUZZ_SEED) \
		$(SWIFT) test $(TEST_FLAGS) --skip-build --filter FuzzTests

# The house format (.swift-format: 4 spaces, 120 columns): `make format` rewrites, `make lint` checks.
lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive --parallel Sources Tests Package.swift

demo: release
	@mkdir -p $(DEMO_DIR)
	.build/release/reckit data synth --preset $(PRESET) --seed $(SEED) --out $(DEMO_DIR)/data
	.build/release/reckit data inspect $(DEMO_DIR)/data | tee $(DEMO_DIR)/data.txt
	.build/release/reckit evaluate --data $(DEMO_DIR)/data --split holdout:0.2 --seed $(SEED) \
		--model popularity,random,itemknn,ials,bpr,svd,ease \
		--metrics precision@10,recall@10,ndcg@10,hr@10,map@10,coverage@10,novelty@10 \
		--markdown $(DEMO_DIR)/leaderboard.md --report $(DEMO_DIR)/report.html
	@echo "leaderboard: $(DEMO_DIR)/leaderboard.md   report: $(DEMO_DIR)/report.html"
	.build/release/reckit train --data $(DEMO_DIR)/data --model ials --evaluate holdout:0.2 --seed $(SEED) \
		--out $(DEMO_DIR)/models/v1
	@echo "serve it:  .build/release/reckit serve --models-dir $(DEMO_DIR)/models" \
		"--events sqlite:$(DEMO_DIR)/events.sqlite"
	@echo "then open  http://127.0.0.1:8080/  (API: curl 'http://127.0.0.1:8080/v1/recommendations?user=1')"

# Benchmark: parse a 20M-row synthetic ratings CSV into Interactions + CSR, against pandas.read_csv.
bench-parse: release
	@test -f .build/bench-data/ml-20m-like/ratings.csv || \
		.build/release/reckit data synth --preset ml-20m-like --seed 42 --out .build/bench-data/ml-20m-like
	@python3 -c "import pandas" 2>/dev/null || pip install --quiet pandas
	.build/release/reckit-bench parse --file .build/bench-data/ml-20m-like/ratings.csv --repeats 3

# Benchmark: top-10 for every user of the ml-20m-like shape, seen items excluded, vs implicit's topk.
PEERS_PYTHON ?=
bench-topk: release
	PEERS_THREADS=2 .build/release/reckit-bench topk --seen ml-20m-like --repeats 3 --python "$(PEERS_PYTHON)"

# Approximate against exact inner-product search, one thread: ml-20m-like iALS vectors copied with noise to 1M.
# IVF-flat (1024 k-means cells) by default; INDEX=hnsw for the graph (its build takes about 25 minutes).
bench-ann: release
	.build/release/reckit-bench ann --preset ml-20m-like --items 1000000 --queries 500 --index $(or $(INDEX),ivf) \
		--probes 4,8,16,32,64 --ef 64,128,256,512

# The peers' rows of ../shared/peers/RESULTS.md, reproduced with their hyper-parameters (needs ../shared).
bench-peers: release
	@mkdir -p $(DEMO_DIR)
	.build/release/reckit benchmark benchmarks/peers-topn.yaml \
		--report $(DEMO_DIR)/peers-topn.html --markdown $(DEMO_DIR)/peers-topn.md
	.build/release/reckit benchmark benchmarks/peers-explicit.yaml \
		--report $(DEMO_DIR)/peers-explicit.html --markdown $(DEMO_DIR)/peers-explicit.md

# Spark MLlib ALS (local[2]) vs RecKit's ials on ml-20m-like: seconds per iteration (needs pyspark and Java 17).
bench-spark: release
	benchmarks/spark-vs-ials.sh

# I-AutoRec's full-batch step on ml-100k u1.base vs a plain PyTorch one (needs ../shared and torch in PEERS_PYTHON).
bench-autorec: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/autorec-vs-torch.sh

bench-multvae: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/multvae-vs-torch.sh

bench-gru4rec: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/gru4rec-vs-torch.sh

bench-sasrec: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/sasrec-vs-torch.sh

bench-youtubednn: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/youtubednn-vs-torch.sh

# LR, FM, DeepFM and Wide & Deep on ml-100k's explicit split: AUC and epoch time against plain PyTorch networks
# trained on the same examples (needs ../shared, torch and safetensors in PEERS_PYTHON), then the suite
# that chooses each model's epochs and step on validation.
bench-features: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/features-vs-torch.sh
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/ncf-vs-torch.sh
	.build/release/reckit benchmark benchmarks/features-ml100k.yaml
	.build/release/reckit benchmark benchmarks/features-ml-latest-small.yaml
	.build/release/reckit benchmark benchmarks/cold-start-ml100k.yaml
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/cold-items-vs-lightfm.sh
	.build/release/reckit benchmark benchmarks/mf-variants.yaml --threads 2

# The server under load (wrk; loopback): GET and POST recommendations, and 10 hot reloads under load.
bench-serve: release
	benchmarks/serve-load.sh

# schemathesis against the OpenAPI document: no 5xx, no schema violation (PEERS_PYTHON: a python with it).
check-api: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/serve-schemathesis.sh

# Every family tuned on validation per data set, then tested over 5 seeds; rewrites benchmarks/frontier.yaml.
bench-frontier: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/frontier.sh

# Does validation pick well? tune's iALS (50 trials) against a test-split grid over the same space.
bench-tune: release
	benchmarks/tune-vs-grid.sh ials 50

# RP3beta, EDLAE and SLIM against numpy/scikit-learn (4 decimals on ml-100k; SLIM's time on ml-latest-small).
bench-linear: release
	RECKIT_PYTHON="$(or $(PEERS_PYTHON),python3)" benchmarks/linear-vs-numpy.sh

clean:
	rm -rf .build $(DEMO_DIR)
