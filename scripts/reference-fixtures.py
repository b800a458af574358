#!/usr/bin/env python3
"""Writes tests/fixtures/reference: what the PyTorch reference HRM itself computes, for our tests to match.

Usage: python3 scripts/reference-fixtures.py --hrm PATH_TO_sapientinc_HRM_CHECKOUT [--out tests/fixtures/reference]

Needs PyTorch (1.13 or newer; Debian 12's python3-torch works), PyYAML and pydantic. The reference's model code is
imported from --hrm, never copied here. On a PyTorch older than the reference needs, small shims are
installed first (nn.Buffer, a bare @torch.no_grad decorator, torch.optim.optimizer.ParamsT, int64 indices); without
FlashAttention, flash_attn_interface.flash_attn_func is plain softmax attention with float32 scores: the reference's
math, not its GPU kernels (FlashAttention takes no float32 inputs, and in bfloat16 it rounds the probabilities
before multiplying by V, which this stand-in does not).

sudoku-csv/reference/ is what the reference's dataset/build_sudoku_dataset.py writes for sudoku-csv/{train,test}.csv
(without augmentation). For each model fixture FOLDER this writes:
  FOLDER/step_N          torch.save(model.state_dict()), as pretrain.py saves a checkpoint (random weights)
  FOLDER/all_config.yaml yaml.dump of the run config, as pretrain.py writes it (arch section, hyper-parameters)
  FOLDER/expected.safetensors
      dims                                    int32 [3]: seq_len, vocab_size, num_puzzle_identifiers
      eval/inputs, eval/puzzle_identifiers    int32 [B, L], [B]
      eval/logits, eval/q_halt_logits, eval/q_continue_logits
                                              float32: model.eval(), a fresh carry, halt_max_steps segments
                                              (the loop of pretrain.py's evaluate); forward_dtype as configured
      eval_fp32/...                           the same with forward_dtype float32 (only where it is bfloat16)
      train/step{k}/inputs, labels, puzzle_identifiers
                                              int32: the batch offered at training step k (k = 1..4)
      train/step{k}/min_halt_steps            int32 [B]: the exploration minimums the ACT wrapper drew (0: none)
      train/step{k}/q_halt_logits, q_continue_logits, target_q_continue
                                              float32 [B]: the call's Q logits and bootstrap targets
      train/step{k}/halted, steps             int32 [B]: the carry after step k
      train/step{k}/lm_loss, q_halt_loss, q_continue_loss
                                              float64 [1]: ACTLossHead's losses (sums over the batch)
      train/step{k}/metrics                   float64 [5]: its metrics count, accuracy, exact_accuracy,
                                              q_halt_accuracy, steps (sums over the halted rows with labels)
      train/step{k}/grad/NAME                 float32: the gradient of (1 / B) * loss, as pretrain.py's
                                              train_batch takes it, for every parameter NAME, and
                                              grad/model.inner.puzzle_emb.local_weights (the sparse rows)
      train/step{k}/puzzle_emb_after_signsgd  float32: the puzzle embedding table after the reference's sparse
                                              SignSGD step (CastedSparseEmbeddingSignSGD_Distributed, world size 1)
      train/signsgd_lr_weight_decay           float64 [2]: its lr and weight decay
      train_softmax/step1/...                 the same for one step with loss_type softmax_cross_entropy from a fresh
                                              carry (run first, without SignSGD)
      Training steps run with the sparse SignSGD step only (no AdamATan2: the dense weights stay put); the exploration
      draws are recorded, so the halting can be replayed. Rows 0 and 1 of every batch share a puzzle.
"""
import argparse
import collections
import json
import os
import struct
import sys
import types


# ACTLossHead's per-row metrics, in the order train/step{k}/metrics holds them (sums over the halted rows with labels).
METRICS = ("count", "accuracy", "exact_accuracy", "q_halt_accuracy", "steps")


# The ACT wrapper's Q outputs of a training call.
Q_OUTPUTS = ("q_halt_logits", "q_continue_logits", "target_q_continue")


def install_shims(torch, nn):
    if not hasattr(nn, "Buffer"):
        class _Buffer:
            def __init__(self, data, persistent=True):
                self.data, self.persistent = data, persistent

        original_setattr = nn.Module.__setattr__

        def setattr_registering_buffers(self, name, value):
            if isinstance(value, _Buffer):
                self.register_buffer(name, value.data, persistent=value.persistent)
            else:
                original_setattr(self, name, value)

        nn.Buffer = _Buffer
        nn.Module.__setattr__ = setattr_registering_buffers

    try:
        torch.no_grad(lambda: None)
    except TypeError:
        original_no_grad = torch.no_grad

        def no_grad(fn=None):
            return original_no_grad()(fn) if callable(fn) else original_no_grad()

        torch.no_grad = no_grad

    import pydantic
    if not hasattr(pydantic.BaseModel, "model_dump"):  # pydantic 1 (Debian 12): the reference's builders use 2's name
        pydantic.BaseModel.model_dump = pydantic.BaseModel.dict

    import torch.optim.optimizer as optimizer_module
    if not hasattr(optimizer_module, "ParamsT"):
        optimizer_module.ParamsT = object

    try:
        import flash_attn_interface  # noqa: F401
    except ImportError:
        module = types.ModuleType("flash_attn_interface")

        def flash_attn_func(q, k, v, causal=False):
            # q, k, v: [B, S, H, D] -> [B, S, H, D]; scores, softmax and the product with V in float32
            dtype = q.dtype
            qf, kf, vf = (t.float().transpose(1, 2) for t in (q, k, v))
            scores = torch.matmul(qf, kf.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
            assert not causal
            out = torch.matmul(torch.softmax(scores, dim=-1), vf)
            return out.transpose(1, 2).contiguous().to(dtype)

        module.flash_attn_func = flash_attn_func
        sys.modules["flash_attn_interface"] = module


def train_steps(head, key, count, draw_batch, B, out, sign_sgd, torch, np):
    """count training calls of ACTLossHead head from a fresh carry, as pretrain.py's train_batch makes them (the
    gradient of (1 / B) * loss), recording under key/step{k}/ the batch, the exploration minimums the call drew, the
    carry's halting and steps, the losses and metrics, every gradient and, with sign_sgd, the table after its step."""
    inner = head.model.inner
    carry = None
    for k in range(1, count + 1):
        batch = draw_batch()
        if carry is None:
            carry = head.initial_carry(batch)
        head.zero_grad(set_to_none=True)
        inner.puzzle_emb.local_weights.grad = None  # training fixtures have a puzzle embedding (asserted in main)
        # The ACT wrapper's exploration draws (torch.rand_like, then torch.randint_like), recorded as it makes them.
        draws, rand_like, randint_like = [], torch.rand_like, torch.randint_like
        torch.rand_like = lambda *a, **kw: draws.append(rand_like(*a, **kw)) or draws[-1]
        torch.randint_like = lambda *a, **kw: draws.append(randint_like(*a, **kw)) or draws[-1]
        try:
            carry, loss, metrics, outputs, _ = head(carry=carry, batch=batch, return_keys=Q_OUTPUTS)
        finally:
            torch.rand_like, torch.randint_like = rand_like, randint_like
        ((1 / B) * loss).backward()
        assert len(draws) == 2, f"expected the ACT wrapper's two exploration draws, saw {len(draws)}"
        explore = head.model.config.halt_exploration_prob
        min_halt_steps = (draws[0] < explore) * draws[1]
        pre = f"{key}/step{k}"
        for name in ("inputs", "labels", "puzzle_identifiers"):
            out.append((f"{pre}/{name}", batch[name].to(torch.int32).numpy()))
        out.append((f"{pre}/min_halt_steps", min_halt_steps.to(torch.int32).numpy()))
        for name in Q_OUTPUTS:
            out.append((f"{pre}/{name}", outputs[name].float().numpy()))
        out.append((f"{pre}/halted", carry.halted.to(torch.int32).numpy()))
        out.append((f"{pre}/steps", carry.steps.to(torch.int32).numpy()))
        for name in ("lm_loss", "q_halt_loss", "q_continue_loss"):
            out.append((f"{pre}/{name}", np.array([float(metrics[name])], dtype=np.float64)))
        out.append((f"{pre}/metrics", np.array([float(metrics[name]) for name in METRICS], dtype=np.float64)))
        for name, p in head.named_parameters():
            out.append((f"{pre}/grad/{name}", p.grad.float().numpy()))
        out.append((f"{pre}/grad/model.inner.puzzle_emb.local_weights",
                    inner.puzzle_emb.local_weights.grad.float().numpy()))
        if sign_sgd is not None:
            sign_sgd.step()  # as train_batch does after every backward (the dense weights stay put here)
            out.append((f"{pre}/puzzle_emb_after_signsgd", inner.puzzle_emb.weights.float().numpy().copy()))


def sudoku_from_csv(hrm, folder):
    """The reference's dataset/build_sudoku_dataset.py (convert_subset, without augmentation: its np.random is not
    seeded) on FOLDER/{train,test}.csv, written to FOLDER/reference/ exactly as it writes data/sudoku-extreme-*.
    Its command-line and download helpers are stood in for: argdantic, tqdm and huggingface_hub (the CSVs are
    local)."""
    stand_ins = {
        "argdantic": dict(ArgParser=type("ArgParser", (), {"command": lambda self, **kw: (lambda f: f)})),
        "tqdm": dict(tqdm=lambda it, **kw: it),
        "huggingface_hub": dict(hf_hub_download=lambda repo, name, repo_type=None: os.path.join(folder, name)),
    }
    for name, attrs in stand_ins.items():
        if name != "huggingface_hub":  # the download always reads the local CSVs; the others only when absent
            try:
                __import__(name)
                continue
            except ImportError:
                pass
        module = types.ModuleType(name)
        for key, value in attrs.items():
            setattr(module, key, value)
        sys.modules[name] = module
    sys.path.insert(0, os.path.join(os.path.abspath(hrm), "dataset"))
    import build_sudoku_dataset
    config = build_sudoku_dataset.DataProcessConfig(output_dir=os.path.join(folder, "reference"))
    for split in ("train", "test"):
        build_sudoku_dataset.convert_subset(split, config)
    sys.path.pop(0)


def write_safetensors(path, tensors):
    """tensors: ordered (name, numpy array) pairs; F32, F64 and I32 only."""
    import numpy as np
    kinds = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int32"): "I32"}
    header, blobs, offset = collections.OrderedDict(), [], 0
    for name, array in tensors:
        array = np.ascontiguousarray(array)
        blob = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": kinds[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hrm", required=True, help="a checkout of the reference (sapientinc/HRM)")
    parser.add_argument("--out",
                        default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "reference"))
    args = parser.parse_args()

    import numpy as np
    import torch
    import yaml
    from torch import nn

    install_shims(torch, nn)
    sys.path.insert(0, os.path.abspath(args.hrm))
    from models.hrm.hrm_act_v1 import HierarchicalReasoningModel_ACTV1
    from models.losses import ACTLossHead, IGNORE_LABEL_ID
    from models.sparse_embedding import CastedSparseEmbeddingSignSGD_Distributed

    torch.set_num_threads(1)

    fixtures = [
        # RoPE, fp32 forward, a puzzle embedding of 48 (two prefix positions, the second half padding), more L
        # cycles and layers than H ones so that a swap shows: the training fixture.
        dict(folder="rope-fp32", step=7, prefix="", batch=4, seq_len=30, vocab_size=11, num_puzzle_identifiers=7,
             arch=dict(H_cycles=2, L_cycles=3, H_layers=2, L_layers=1, hidden_size=32, num_heads=2, expansion=4,
                       puzzle_emb_ndim=48, pos_encodings="rope", rope_theta=10000, rms_norm_eps=1e-5,
                       halt_max_steps=3, halt_exploration_prob=0.5, forward_dtype="float32"),
             train=True),
        # Learned positions, the reference's default bf16 forward, no puzzle embedding, keys as torch.compile
        # leaves them (_orig_mod.): an evaluation fixture.
        dict(folder="learned-bf16", step=2, prefix="_orig_mod.", batch=3, seq_len=30, vocab_size=11,
             num_puzzle_identifiers=1,
             arch=dict(H_cycles=1, L_cycles=2, H_layers=1, L_layers=2, hidden_size=32, num_heads=2, expansion=4,
                       puzzle_emb_ndim=0, pos_encodings="learned", rms_norm_eps=1e-5,
                       halt_max_steps=2, halt_exploration_prob=0.1, forward_dtype="bfloat16"),
             train=False),
    ]

    sudoku_from_csv(args.hrm, os.path.join(args.out, "sudoku-csv"))

    for fx in fixtures:
        torch.manual_seed(20261130)
        folder = os.path.join(args.out, fx["folder"])
        os.makedirs(folder, exist_ok=True)
        arch = dict(fx["arch"])
        model_cfg = dict(arch, batch_size=fx["batch"], seq_len=fx["seq_len"], vocab_size=fx["vocab_size"],
                         num_puzzle_identifiers=fx["num_puzzle_identifiers"], causal=False)

        def build(cfg):
            return ACTLossHead(HierarchicalReasoningModel_ACTV1(cfg), loss_type="stablemax_cross_entropy")

        model = build(model_cfg)
        inner = model.model.inner
        with torch.no_grad():
            # The reference starts the Q head and the puzzle embeddings at zero; here the Q weights and the puzzle
            # rows are random and the halt bias leans to halting, so that rows halt at different steps and the
            # puzzle rows matter.
            inner.q_head.weight.normal_(0.0, 0.5)
            inner.q_head.bias.copy_(torch.tensor([0.3, 0.0]))
            if arch["puzzle_emb_ndim"] > 0:
                inner.puzzle_emb.weights.normal_(0.0, 0.5)

        state = model.state_dict()
        state = collections.OrderedDict((fx["prefix"] + k, v) for k, v in state.items())
        step_path = os.path.join(folder, f"step_{fx['step']}")
        torch.save(state, step_path + ".tmp")
        os.replace(step_path + ".tmp", step_path)

        all_config = dict(
            arch=dict(dict(name="hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
                           loss=dict(name="losses@ACTLossHead", loss_type="stablemax_cross_entropy")), **arch),
            # No warmup and lr_min_ratio 1: pretrain.py's compute_lr gives the base rates at every step, so the
            # SignSGD step below runs with puzzle_emb_lr and puzzle_emb_weight_decay as written here.
            data_path="data/fixture", global_batch_size=fx["batch"], epochs=1000, lr=1e-4, lr_min_ratio=1.0,
            lr_warmup_steps=0, weight_decay=1.0, beta1=0.9, beta2=0.95, puzzle_emb_lr=1e-2,
            puzzle_emb_weight_decay=0.1, project_name="Fixture ACT-torch",
            run_name="HierarchicalReasoningModel_ACTV1 fixture",
            checkpoint_path="checkpoints/Fixture ACT-torch/HierarchicalReasoningModel_ACTV1 fixture", seed=0,
            checkpoint_every_eval=True, eval_interval=100, eval_save_outputs=[])
        with open(os.path.join(folder, "all_config.yaml"), "wt") as f:
            yaml.dump(all_config, f)

        B, L, V, P = fx["batch"], fx["seq_len"], fx["vocab_size"], fx["num_puzzle_identifiers"]
        gen = torch.Generator().manual_seed(7)

        def draw_batch():
            inputs = torch.randint(1, V, (B, L), generator=gen, dtype=torch.int32)
            labels = torch.randint(1, V, (B, L), generator=gen, dtype=torch.int32)
            ignored = torch.rand((B, L), generator=gen) < 0.25
            labels = torch.where(ignored, torch.full_like(labels, IGNORE_LABEL_ID), labels)
            ids = torch.randint(0, P, (B,), generator=gen, dtype=torch.int32)
            ids[1] = ids[0]  # two rows of one puzzle: SignSGD sums their rows' gradients before the sign
            if int(torch.__version__.split(".")[0]) < 2:
                ids = ids.long()  # PyTorch 1.x indexes with int64 only; the values are the same
            return dict(inputs=inputs, labels=labels, puzzle_identifiers=ids)

        out = [("dims", np.array([L, V, P], dtype=np.int32))]

        def evaluate(m, batch, key):
            m.eval()
            with torch.inference_mode():
                carry = m.initial_carry(batch)
                while True:
                    carry, _, _, preds, all_finish = m(carry=carry, batch=batch,
                                                      return_keys=["logits", "q_halt_logits", "q_continue_logits"])
                    if all_finish:
                        break
            for name in ("logits", "q_halt_logits", "q_continue_logits"):
                out.append((f"{key}/{name}", preds[name].float().numpy()))

        eval_batch = draw_batch()
        out.append(("eval/inputs", eval_batch["inputs"].numpy()))
        out.append(("eval/puzzle_identifiers", eval_batch["puzzle_identifiers"].to(torch.int32).numpy()))
        evaluate(model, eval_batch, "eval")
        if arch["forward_dtype"] != "float32":
            fp32 = build(dict(model_cfg, forward_dtype="float32"))
            fp32.load_state_dict(model.state_dict())
            evaluate(fp32, eval_batch, "eval_fp32")

        if fx["train"]:
            assert arch["puzzle_emb_ndim"] > 0 and arch["halt_max_steps"] > 1, "a training fixture explores and has puzzles"
            model.train()
            sign_lr, sign_wd = all_config["puzzle_emb_lr"], all_config["puzzle_emb_weight_decay"]
            if int(torch.__version__.split(".")[0]) < 2:  # PyTorch 1.x indexes with int64 only (same values)
                inner.puzzle_emb.local_ids = inner.puzzle_emb.local_ids.long()
            sign_sgd = CastedSparseEmbeddingSignSGD_Distributed(inner.puzzle_emb.buffers(), world_size=1,
                                                               lr=sign_lr, weight_decay=sign_wd)
            out.append(("train/signsgd_lr_weight_decay", np.array([sign_lr, sign_wd], dtype=np.float64)))
            # One step with the softmax loss first (a fresh carry, no SignSGD: the table stays as saved), then four
            # with the run's stablemax loss, each followed by the sparse SignSGD step as train_batch does.
            softmax = ACTLossHead(model.model, loss_type="softmax_cross_entropy")
            # The reference's softmax_cross_entropy views the logits, which with a puzzle prefix are a strided slice;
            # in its default bfloat16 forward the cast to float32 makes them contiguous first, in a float32 forward
            # it does not and the view fails. Same numbers, made contiguous:
            softmax_ce = softmax.loss_fn
            softmax.loss_fn = lambda logits, labels, **kw: softmax_ce(logits.contiguous(), labels, **kw)
            train_steps(softmax, "train_softmax", 1, draw_batch, B, out, None, torch, np)
            # Exploration draws from this seed: at step 2 row 0 halts by its Q logits, row 1's Q logits say halt but
            # its exploration minimum (3) holds it to the last step, and row 0 starts again on new data at step 3.
            torch.manual_seed(1)
            train_steps(model, "train", 4, draw_batch, B, out, sign_sgd, torch, np)

        write_safetensors(os.path.join(folder, "expected.safetensors"), out)
        sizes = os.path.getsize(step_path), os.path.getsize(os.path.join(folder, "expected.safetensors"))
        print(f"{folder}: {sizes[0]} + {sizes[1]} bytes, torch {torch.__version__}")


if __name__ == "__main__":
    main()
