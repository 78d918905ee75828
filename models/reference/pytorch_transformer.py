"""PyTorch reference for Apiary's character-level causal transformer (apiary-models): the same
model, vocabulary, training protocol and data, to compare test nats/char and training throughput
on one machine. Not run by CI and not a project dependency: it needs `torch` (CPU), `pyarrow`
and the words data in sample_data/.

MEASURED on the project's 2-core machine (AMD EPYC, AVX2) while another process was compiling Rust
(load average 0.7 to 5), so the figures are the best of 3 to 6 runs; the loaded runs were
down to 60 % of these, and with 2 threads some fell to ~3,000 tok/s (OpenMP threads fighting
the compiler for the 2 cores). torch 2.15.0 (PyPI's Linux wheel, +cu132, run on CPU: MKL
2024.2, oneDNN 3.13.3, OpenMP), numpy 2.4.6, pyarrow 26.0.1, Python 3.11.7.

  Training throughput, default model (103,708 parameters), batch 128, steps 21..320:
      --threads 1   27,978 real tok/s   49,763 padded tok/s   (sdpa: 26,823 / 47,710)
      --threads 2   42,949 real tok/s   76,393 padded tok/s   (sdpa: 40,094 / 71,315)
  (real = non-pad predicted tokens, ~56 % of the padded batch x longest-word tokens)
      python models/reference/pytorch_transformer.py --threads 1 --steps 320 --no-final-eval
      python models/reference/pytorch_transformer.py --threads 2 --steps 320 --no-final-eval
      (and the same with --attention sdpa)

  Full training, 3000 steps, --threads 1, seed 0 (under load: 24,882 tok/s over the run):
      test 1.9517 nats/char (step 1000: 2.0926, step 2000: 2.0007; last-100-step train loss
      1.9336); training 140.7 s, process 151 s wall, 1.0 GB peak RSS
      python models/reference/pytorch_transformer.py --threads 1 --eval-every 1000

  Baselines (add-one smoothing over 27 outcomes, 66,879 test tokens): unigram 2.9441,
  bigram 2.5054 nats/char
      python models/reference/pytorch_transformer.py --bigram

Usage (from the repository root):

    python models/reference/pytorch_transformer.py                      # train 3000 steps, test nats/char
    python models/reference/pytorch_transformer.py --threads 1 --steps 320 --no-final-eval
    python models/reference/pytorch_transformer.py --bigram             # unigram/bigram baselines
    python models/reference/pytorch_transformer.py --rope-style interleaved --eval-every 500

Data: /work/main/sample_data/words_{train,test}.parquet, column `word` (lower-case a-z words).

Vocabulary: id 0 = end token (also the start token), id 1 = unknown, then the distinct characters
of the training words in code-point order from id 2 (a-z -> 2..27, V = 28). A word w1..wn is the
input [0, w1..wn] and the target [w1..wn, 0]: n + 1 predicted tokens. nats/char = total NLL over
the test words / total predicted tokens (characters + one end token per word).

Model: token embedding [V, d] and no learned position embedding; per block (pre-norm)
    x = x + Wo(attn(LN1(x)))
    x = x + W2(GELU_exact(W1(LN2(x))))
LayerNorm eps 1e-5 with weight and bias; q, k, v, o, W1, W2 are nn.Linear with bias; q and k are
rotated by RoPE per head (base 10000, theta_i = base^(-2i/hd), position m = token index from 0,
the start token at 0), style 'half' (pairs (x[i], x[i + hd/2]), GPT-NeoX rotate_half) or
'interleaved' (pairs (x[2i], x[2i+1]), RoFormer/GPT-J); causal softmax with scale 1/sqrt(hd);
final LayerNorm, then an untied head nn.Linear(d, V) with bias.
Init: every Linear weight and the embedding ~ N(0, 0.02), biases 0, LayerNorm weight 1 bias 0.

Training: AdamW(lr 3e-3, betas (0.9, 0.999), eps 1e-8), weight decay 0.01 on the 2-D Linear
weights only (the head's included; none on the embedding, biases or LayerNorm), gradient
clipping to global norm 1.0, batches of 128 words taken in order from a fresh permutation of the
training words every epoch (torch.Generator seeded; the epoch's last partial batch is dropped),
right-padded to the batch's longest word with the loss masked on pads (mean over the batch's real
predicted tokens), lr: linear warmup lr*s/100 for steps s = 1..100, then cosine from lr at step
100 to 0.1*lr at the last step.

Throughput: "tokens/s" counts real (non-pad) predicted tokens per second of training wall time
(forward + backward + clip + optimizer step, including the batch assembly; evaluation excluded);
"padded tokens/s" counts batch * padded length. The summary line reports both over the steps
after --warmup-steps-excluded (default 20).
"""

import argparse
import math
import os
import time

import pyarrow.parquet as pq
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("APIARY_WORDS_DIR", os.path.join(HERE, "..", "..", "sample_data"))

END = 0  # end token, also used as the start token
UNK = 1  # characters not seen in training


# ----------------------------------------------------------------------------- data


def read_words(name):
    return pq.read_table(os.path.join(DATA, f"words_{name}.parquet"), columns=["word"]).column(
        "word"
    ).to_pylist()


def build_vocab(train_words):
    """char -> id: the training characters in code-point order from id 2."""
    chars = sorted(set("".join(train_words)))
    return {c: i + 2 for i, c in enumerate(chars)}


def encode(words, vocab):
    return [[vocab.get(c, UNK) for c in w] for w in words]


def make_batch(seqs, context):
    """Right-padded inputs [0, w1..wn], targets [w1..wn, 0] and a mask of real targets."""
    length = max(len(s) for s in seqs) + 1
    if length > context:
        raise ValueError(f"a word of {length - 1} chars needs context >= {length}, have {context}")
    inp = torch.zeros(len(seqs), length, dtype=torch.long)  # pads are END (id 0); masked anyway
    tgt = torch.zeros(len(seqs), length, dtype=torch.long)
    mask = torch.zeros(len(seqs), length, dtype=torch.bool)
    for b, s in enumerate(seqs):
        n = len(s)
        t = torch.tensor(s, dtype=torch.long)
        inp[b, 1 : n + 1] = t
        tgt[b, :n] = t
        tgt[b, n] = END
        mask[b, : n + 1] = True
    return inp, tgt, mask


# ----------------------------------------------------------------------------- model


def rope_tables(context, head_dim, base):
    """cos/sin of m * theta_i for m in [0, context), i in [0, hd/2): shape [context, hd/2]."""
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    angles = torch.arange(context, dtype=torch.float64)[:, None] * inv_freq[None, :]
    return angles.cos().float(), angles.sin().float()


def apply_rope(x, cos, sin, style):
    """x: [B, H, T, hd]; cos, sin: [T, hd/2]. Rotates each pair by m * theta_i."""
    if style == "half":  # pairs (x[i], x[i + hd/2]): GPT-NeoX rotate_half
        h = x.shape[-1] // 2
        x1, x2 = x[..., :h], x[..., h:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    # interleaved: pairs (x[2i], x[2i+1]) as RoFormer / GPT-J
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.w1 = nn.Linear(d, mlp)
        self.w2 = nn.Linear(mlp, d)

    def attention(self, x, cos, sin, style, sdpa):
        B, T, d = x.shape
        hd = d // self.heads

        def split(t):  # [B, T, d] -> [B, H, T, hd]
            return t.view(B, T, self.heads, hd).transpose(1, 2)

        q = apply_rope(split(self.q(x)), cos, sin, style)
        k = apply_rope(split(self.k(x)), cos, sin, style)
        v = split(self.v(x))
        if sdpa:  # same computation through PyTorch's fused kernel (scale defaults to 1/sqrt(hd))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            causal = torch.ones(T, T, dtype=torch.bool).triu(1)
            att = att.masked_fill(causal, float("-inf")).softmax(dim=-1)
            y = att @ v
        return self.o(y.transpose(1, 2).reshape(B, T, d))

    def forward(self, x, cos, sin, style, sdpa):
        x = x + self.attention(self.ln1(x), cos, sin, style, sdpa)
        x = x + self.w2(F.gelu(self.w1(self.ln2(x))))  # exact (erf) GELU
        return x


class Transformer(nn.Module):
    def __init__(self, vocab, d=64, layers=2, heads=4, mlp=256, context=32, base=10000.0,
                 style="half", sdpa=False):
        super().__init__()
        assert d % heads == 0 and (d // heads) % 2 == 0
        self.context, self.style, self.sdpa = context, style, sdpa
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, mlp) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.head = nn.Linear(d, vocab)
        cos, sin = rope_tables(context, d // heads, base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
            # nn.LayerNorm already starts at weight 1, bias 0

    def forward(self, idx):
        T = idx.shape[1]
        cos, sin = self.cos[:T], self.sin[:T]
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x, cos, sin, self.style, self.sdpa)
        return self.head(self.ln_f(x))


def masked_nll(logits, tgt, mask):
    """Summed NLL over the real targets."""
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
    return (nll * mask.reshape(-1)).sum()


@torch.no_grad()
@torch.no_grad()
def evaluate(model, seqs, batch=1024):
    """Test nats/char: total NLL / total predicted tokens (chars + one end token per word)."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(seqs), batch):
        inp, tgt, mask = make_batch(seqs[i : i + batch], model.context)
        total += masked_nll(model(inp), tgt, mask).item()
        count += int(mask.sum())
    model.train()
    return total / count


# ----------------------------------------------------------------------------- training


def lr_at(step, steps, lr, warmup, final_frac=0.1):
    """step counts from 1. Warmup lr*step/warmup up to step `warmup`, then cosine to final_frac*lr
    at step `steps`."""
    if step <= warmup:
        return lr * step / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    low = final_frac * lr
    return low + 0.5 * (lr - low) * (1.0 + math.cos(math.pi * progress))


def batches(n, batch, gen):
    """Endless stream of index batches: a fresh permutation every epoch, last partial dropped."""
    while True:
        perm = torch.randperm(n, generator=gen).tolist()
        for i in range(0, n - batch + 1, batch):
            yield perm[i : i + batch]


def train(a):
    torch.manual_seed(a.seed)
    train_words, test_words = read_words("train"), read_words("test")
    vocab = build_vocab(train_words)
    V = len(vocab) + 2
    train_seqs, test_seqs = encode(train_words, vocab), encode(test_words, vocab)
    model = Transformer(V, a.d_model, a.layers, a.heads, a.mlp, a.context, a.rope_base,
                        a.rope_style, a.attention == "sdpa")
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith("embed")]
    no_decay = [p for n, p in model.named_parameters() if p.dim() != 2 or n.startswith("embed")]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=a.lr, betas=(0.9, 0.999), eps=1e-8,
    )
    n_params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; V = {V}, "
          f"{n_params} parameters; {len(train_seqs)} train / {len(test_seqs)} test words; "
          f"rope {a.rope_style}, attention {a.attention}")

    gen = torch.Generator().manual_seed(a.seed)
    stream = batches(len(train_seqs), a.batch, gen)
    train_time = 0.0  # wall time of training steps only
    win_loss, win_tok, win_pad, win_time = 0.0, 0, 0, 0.0
    after_tok, after_pad, after_time = 0, 0, 0.0  # steps after --warmup-steps-excluded
    wall_start = time.perf_counter()
    for step in range(1, a.steps + 1):
        t0 = time.perf_counter()
        inp, tgt, mask = make_batch([train_seqs[i] for i in next(stream)], a.context)
        real = int(mask.sum())
        padded = mask.numel()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.steps, a.lr, a.warmup)
        loss = masked_nll(model(inp), tgt, mask) / real
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        loss_value = loss.item()
        dt = time.perf_counter() - t0
        train_time += dt
        win_loss += loss_value
        win_tok += real
        win_pad += padded
        win_time += dt
        if step > a.warmup_steps_excluded:
            after_tok += real
            after_pad += padded
            after_time += dt
        if step % a.log_every == 0 or step == a.steps:
            k = a.log_every if step % a.log_every == 0 else step % a.log_every
            print(f"step {step:5d}  loss {win_loss / k:.4f}  lr {lr_at(step, a.steps, a.lr, a.warmup):.2e}"
                  f"  {win_tok / win_time:8.0f} tok/s  {win_pad / win_time:8.0f} padded tok/s",
                  flush=True)
            win_loss, win_tok, win_pad, win_time = 0.0, 0, 0, 0.0
        if a.eval_every and step % a.eval_every == 0 and step != a.steps:
            print(f"step {step:5d}  test {evaluate(model, test_seqs):.4f} nats/char", flush=True)
    if after_time > 0:
        print(f"throughput over steps {a.warmup_steps_excluded + 1}..{a.steps}: "
              f"{after_tok / after_time:.0f} tok/s, {after_pad / after_time:.0f} padded tok/s "
              f"({after_time:.2f} s)")
    print(f"training time {train_time:.1f} s (wall {time.perf_counter() - wall_start:.1f} s)")
    if not a.no_final_eval:
        t0 = time.perf_counter()
        nats = evaluate(model, test_seqs)
        print(f"test {nats:.4f} nats/char ({time.perf_counter() - t0:.3f} s)")


# ----------------------------------------------------------------------------- baselines


def baselines():
    """Unigram and bigram test nats/char, add-one smoothing over {end token + training chars}.
    The bigram conditions on the previous token (the start token, id 0, for the first char)."""
    train_words, test_words = read_words("train"), read_words("test")
    vocab = build_vocab(train_words)
    K = len(vocab) + 1  # outcomes: the end token and each training character
    ids = [END] + sorted(vocab.values())
    uni = {t: 0 for t in ids}
    bi = {(p, t): 0 for p in ids for t in ids}
    for seq in encode(train_words, vocab):
        prev = END
        for t in seq + [END]:
            uni[t] += 1
            bi[(prev, t)] += 1
            prev = t
    total = sum(uni.values())
    ctx = {p: sum(bi[(p, t)] for t in ids) for p in ids}
    nll_u = nll_b = 0.0
    count = 0
    for w in test_words:
        if any(c not in vocab for c in w):
            raise ValueError(f"test word {w!r} has a character outside the training vocabulary")
        prev = END
        for t in [vocab[c] for c in w] + [END]:
            nll_u -= math.log((uni[t] + 1) / (total + K))
            nll_b -= math.log((bi[(prev, t)] + 1) / (ctx[prev] + K))
            prev = t
            count += 1
    print(f"{len(test_words)} test words, {count} predicted tokens, {K} outcomes")
    print(f"unigram {nll_u / count:.4f} nats/char")
    print(f"bigram  {nll_b / count:.4f} nats/char")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bigram", action="store_true", help="print the unigram/bigram baselines only")
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--mlp", type=int, default=256)
    p.add_argument("--context", type=int, default=32)
    p.add_argument("--rope-base", type=float, default=10000.0)
    p.add_argument("--rope-style", choices=["half", "interleaved"], default="half")
    p.add_argument("--attention", choices=["manual", "sdpa"], default="manual",
                   help="F.scaled_dot_product_attention or the explicit masked softmax (same math)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=0, help="test nats/char every N steps")
    p.add_argument("--warmup-steps-excluded", type=int, default=20,
                   help="steps left out of the summary throughput")
    p.add_argument("--no-final-eval", action="store_true")
    a = p.parse_args()
    if a.bigram:
        baselines()
        return
    if a.threads:
        torch.set_num_threads(a.threads)
    train(a)


if __name__ == "__main__":
    main()
