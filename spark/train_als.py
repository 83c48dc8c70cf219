"""Train Spark MLlib's ALS on a `reckit data export` folder and write factors RecKit imports.

    spark-submit --master spark://HOST:7077 spark/train_als.py --input EXPORT --output FACTORS \
        --factors 64 --regularization 0.05 --alpha 1 --iterations 15
    python spark/train_als.py --master 'local[2]' --input EXPORT --output FACTORS   # local mode

then `reckit import spark-als --factors FACTORS --data EXPORT --out MODEL`.

The settings carry RecKit's names. Spark's implicit ALS is Hu, Koren and Volinsky's: confidence
c = 1 + alpha * r (RecKit's default convention), with lambda scaled by each row's interaction count
(ALS-WR) — RecKit's `ials --set regularization_scaling=count`, which the imported model uses for fold-in.
The value column is RecKit's: weight, else rating, else 1 for every interaction (export.json names it).

Output (readable by Spark and by `reckit import`):
    FACTORS/user_factors/part-*.csv   id,f0,...,f{k-1}   (raw user IDs, RFC 4180 quoting)
    FACTORS/item_factors/part-*.csv   id,f0,...,f{k-1}
    FACTORS/metadata/part-*.json      settings, Spark version, input, export fingerprint, fit seconds
"""
import argparse
import atexit
import json
import shutil
import sys
import tempfile
import time


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="a folder written by `reckit data export`")
    parser.add_argument("--output", required=True, help="the folder to write (replaced if it exists)")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--regularization", type=float, default=0.05,
                        help="lambda; Spark multiplies it by each row's interaction count")
    parser.add_argument("--alpha", type=float, default=1.0, help="confidence c = 1 + alpha * value")
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--master", default=None, help="Spark master URL when not set by spark-submit")
    parser.add_argument("--driver-memory", default=None,
                        help="the driver's heap (e.g. 12g) when the job starts Spark itself (local mode)")
    parser.add_argument("--block-size", type=int, default=None,
                        help="user and item blocks (Spark's numUserBlocks/numItemBlocks; default: Spark's)")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="checkpoint folder, on storage every executor reaches (Spark checkpoints ALS every 10 "
                             "iterations; without it the lineage of a long run overflows the stack when tasks are "
                             "deserialised). Default: a temporary local folder in local mode, none on a cluster")
    return parser.parse_args(argv)


# RFC 4180, as `reckit data export` writes and `reckit import` reads: a quote inside a field is doubled.
CSV_OPTIONS = {"header": "true", "quote": '"', "escape": '"', "multiLine": "true", "encoding": "UTF-8",
               "mode": "FAILFAST"}


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession, functions as F, types as T
    from pyspark.ml.recommendation import ALS

    builder = SparkSession.builder.appName("reckit-train-als")
    if args.master:
        builder = builder.master(args.master)
    if args.driver_memory:
        builder = builder.config("spark.driver.memory", args.driver_memory)
    spark = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if args.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(args.checkpoint_dir)
    elif spark.sparkContext.master.startswith("local"):
        # Every 10 iterations ALS cuts its factors' lineage at a checkpoint; without one, 15 iterations'
        # lineage already overflowed a task thread's stack in ObjectInputStream on a loaded machine.
        checkpoints = tempfile.mkdtemp(prefix="reckit-als-checkpoints-")
        atexit.register(shutil.rmtree, checkpoints, ignore_errors=True)
        spark.sparkContext.setCheckpointDir(checkpoints)
    elif args.iterations > 10:
        print(f"note: {args.iterations} iterations without --checkpoint-dir; a long lineage can overflow the "
              "stack of Spark's tasks", file=sys.stderr)

    manifest = json.loads("".join(spark.sparkContext.textFile(f"{args.input}/export.json", 1).collect()))
    if manifest.get("format") != "reckit-export":
        sys.exit(f"{args.input}/export.json: not a `reckit data export` folder")
    columns = manifest["columns"]
    numeric = {"rating": T.DoubleType(), "timestamp": T.LongType(), "weight": T.DoubleType()}
    schema = T.StructType([T.StructField(name, numeric.get(name, T.StringType()), False) for name in columns])
    interactions = spark.read.options(**CSV_OPTIONS).schema(schema).csv(f"{args.input}/interactions")
    value_column = manifest.get("value_column")
    value = F.col(value_column).cast("float") if value_column else F.lit(1.0).cast("float")

    def id_map(role, file_name):
        frame = spark.read.options(**CSV_OPTIONS).csv(f"{args.input}/{file_name}")
        return frame.select(F.col(f"{role}_index").cast("int"), F.col(f"{role}_id"))

    users = id_map("user", manifest["users_file"])
    items = id_map("item", manifest["items_file"])

    # Raw IDs to the export's dense indices (Spark's ALS wants integers).
    ratings = interactions.join(F.broadcast(users), "user_id").join(F.broadcast(items), "item_id") \
        .select(F.col("user_index"), F.col("item_index"), value.alias("value"))
    ratings = ratings.groupBy("user_index", "item_index").agg(F.sum("value").alias("value")).cache()
    count = ratings.count()

    als = ALS(rank=args.factors, maxIter=args.iterations, regParam=args.regularization, alpha=args.alpha,
              implicitPrefs=True, userCol="user_index", itemCol="item_index", ratingCol="value",
              seed=args.seed, nonnegative=False, coldStartStrategy="drop")
    if args.block_size:
        als = als.setNumUserBlocks(args.block_size).setNumItemBlocks(args.block_size)
    start = time.perf_counter()
    model = als.fit(ratings)
    # Fitting is lazy in places: materialise both factor tables inside the timed section.
    model.userFactors.cache().count()
    model.itemFactors.cache().count()
    fit_seconds = time.perf_counter() - start

    def write(factors, ids, role):
        frame = factors.join(ids, factors["id"] == ids[f"{role}_index"]).select(
            F.col(f"{role}_id").alias("id"), *[F.col("features")[f].alias(f"f{f}") for f in range(args.factors)])
        frame.write.mode("overwrite").options(**CSV_OPTIONS).csv(f"{args.output}/{role}_factors")

    write(model.userFactors, users, "user")
    write(model.itemFactors, items, "item")
    metadata = {
        "tool": "spark-als", "spark_version": spark.version, "implicit_prefs": True, "factors": args.factors,
        "regularization": args.regularization, "alpha": args.alpha, "iterations": args.iterations,
        "seed": args.seed, "input": args.input, "export_fingerprint": manifest.get("fingerprint"),
        "fit_seconds": fit_seconds, "master": spark.sparkContext.master, "interactions": count,
    }
    spark.createDataFrame([(json.dumps(metadata),)], ["value"]).coalesce(1) \
        .write.mode("overwrite").text(f"{args.output}/metadata")
    print(json.dumps(metadata), flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
