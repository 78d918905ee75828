"""PyTorch reference for Apiary's binary-vector models (issue 6): the same models, training
protocol and data, to compare test NLL, training time and scoring throughput on one machine.

Not run by CI. Needs `torch` (CPU is enough) and the digits CSVs:

    python models/reference/pytorch_reference.py score            # loglik throughput, n = 64
    python models/reference/pytorch_reference.py train fvsbn      # test NLL and training time
    python models/reference/pytorch_reference.py train nade --hidden 32

Protocol, as `apiary_models::train` with its defaults: AdamW (β = 0.9, 0.999, ε = 1e-8),
weight decay on the weight matrices only, mini-batches of 100, 10 % of the training rows held
out (seeded), early stopping with patience 20 on the validation NLL, best weights kept, at most
500 epochs; output biases start at the smoothed log-odds of the training bits.
"""

import argparse
import os
import time

import torch
import torch.nn.functional as F

DATA = os.environ.get("APIARY_DIGITS_DIR", "/work/shared/data")

DEFAULTS = {  # model type: (learning_rate, weight_decay)
    "bernoulli": (0.05, 0.0),
    "fvsbn": (0.01, 0.05),
    "nade": (0.01, 0.1),
}


def read_digits(name):
    rows = []
    with open(os.path.join(DATA, f"digits_{name}.csv")) as f:
        next(f)
        for line in f:
            pixels = line[line.index("[") + 1 : line.rindex("]")]
            rows.append([int(v) for v in pixels.split(",")])
    return torch.tensor(rows, dtype=torch.float32)


class Bernoulli(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.b = torch.nn.Parameter(torch.zeros(n))

    def logits(self, x):
        return self.b.expand_as(x)


class Fvsbn(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.W = torch.nn.Parameter(torch.empty(n, n).uniform_(-(n**-0.5), n**-0.5))
        self.b = torch.nn.Parameter(torch.zeros(n))
        self.register_buffer("mask", torch.tril(torch.ones(n, n), diagonal=-1))

    def logits(self, x):
        return x @ (self.W * self.mask).T + self.b


class Nade(torch.nn.Module):
    """Larochelle & Murray (2011), sigmoid hidden units."""

    def __init__(self, n, hidden):
        super().__init__()
        self.W = torch.nn.Parameter(torch.empty(hidden, n).uniform_(-(n**-0.5), n**-0.5))
        self.c = torch.nn.Parameter(torch.zeros(hidden))
        self.V = torch.nn.Parameter(torch.empty(n, hidden).uniform_(-(hidden**-0.5), hidden**-0.5))
        self.b = torch.nn.Parameter(torch.zeros(n))

    def logits(self, x):
        # All pre-activations at once for training: a_i = c + W[:, :i] x[:i].
        a = torch.cumsum(x.unsqueeze(2) * self.W.T.unsqueeze(0), dim=1)  # B, n, H (a_{i+1})
        a = torch.cat([torch.zeros_like(a[:, :1]), a[:, :-1]], dim=1) + self.c
        h = torch.sigmoid(a)
        return (h * self.V.unsqueeze(0)).sum(-1) + self.b

    @torch.no_grad()
    def loglik_incremental(self, x):
        """Scoring by the incremental update, O(nH) per vector."""
        a = self.c.expand(x.shape[0], -1).clone()
        ll = torch.zeros(x.shape[0])
        for i in range(x.shape[1]):
            h = torch.sigmoid(a)
            z = h @ self.V[i] + self.b[i]
            ll -= F.binary_cross_entropy_with_logits(z, x[:, i], reduction="none")
            a += x[:, i : i + 1] * self.W[:, i]
        return ll


def make(model_type, n, hidden):
    if model_type == "bernoulli":
        return Bernoulli(n)
    if model_type == "fvsbn":
        return Fvsbn(n)
    return Nade(n, hidden)


def loglik(model, x):
    z = model.logits(x)
    return -F.binary_cross_entropy_with_logits(z, x, reduction="none").sum(1)


def train(model_type, hidden, seed=0):
    torch.manual_seed(seed)
    data, test = read_digits("train"), read_digits("test")
    perm = torch.randperm(len(data))
    n_valid = round(0.1 * len(data))
    valid, rows = data[perm[:n_valid]], data[perm[n_valid:]]
    n = data.shape[1]
    model = make(model_type, n, hidden)
    k = rows.sum(0)
    with torch.no_grad():
        model.b.copy_(torch.log((k + 1) / (len(rows) - k + 1)))
    lr, wd = DEFAULTS[model_type]
    biases = [p for name, p in model.named_parameters() if name in ("b", "c")]
    weights = [p for name, p in model.named_parameters() if name not in ("b", "c")]
    if model_type == "bernoulli":
        weights, biases = biases, []
    opt = torch.optim.AdamW(
        [{"params": weights, "weight_decay": wd}, {"params": biases, "weight_decay": 0.0}], lr=lr
    )
    best, best_nll, best_epoch = None, float("inf"), 0
    start = time.time()
    for epoch in range(1, 501):
        for idx in torch.randperm(len(rows)).split(100):
            loss = -loglik(model, rows[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            nll = -loglik(model, valid).mean().item()
        if nll < best_nll:
            best_nll, best_epoch = nll, epoch
            best = {name: p.detach().clone() for name, p in model.state_dict().items()}
        if epoch - best_epoch >= 20:
            break
    seconds = time.time() - start
    model.load_state_dict(best)
    with torch.no_grad():
        test_nll = -loglik(model, test).mean().item()
    label = f"{model_type}-{hidden}" if model_type == "nade" else model_type
    print(
        f"{label:<10} test NLL {test_nll:.3f}  valid {best_nll:.3f}  "
        f"epochs {best_epoch}/{epoch}  {seconds:.1f} s"
    )


@torch.no_grad()
def score(rows, threads, batch):
    torch.set_num_threads(threads)
    digits = torch.cat([read_digits("train"), read_digits("test")])
    x = digits.repeat(rows // len(digits) + 1, 1)[:rows]
    n = x.shape[1]
    for label, model in [
        ("fvsbn", Fvsbn(n)),
        ("nade-32", Nade(n, 32)),
        ("nade-128", Nade(n, 128)),
    ]:
        start = time.time()
        total = 0.0
        for chunk in x.split(batch):
            if isinstance(model, Nade):
                total += model.loglik_incremental(chunk).sum().item()
            else:
                total += loglik(model, chunk).sum().item()
        rate = rows / (time.time() - start)
        print(f"{label:<10} n = {n}  {rate:>12.0f} images/s  ({threads} threads, batches of {batch})")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["score", "train"])
    p.add_argument("model_type", nargs="?", default="fvsbn")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8192)
    a = p.parse_args()
    if a.what == "score":
        score(a.rows, a.threads, a.batch)
    else:
        torch.set_num_threads(a.threads)
        train(a.model_type, a.hidden)


if __name__ == "__main__":
    main()
