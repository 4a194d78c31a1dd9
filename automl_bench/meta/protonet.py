"""Prototypical Networks (Snell et al. 2017) and the pretrain-then-nearest-centroid baseline, for
few-shot classification of 40-length signals (MNIST-1D episodes, ``meta.fewshot``).

ProtoNets: an embedding network f; each class's prototype is the mean embedding of its support
examples; a query's logits are the negative squared Euclidean distances of f(query) to the
prototypes; trained episodically (cross-entropy on the query set) with Adam.

The baseline: the same embedding network plus a linear head, trained as an ordinary classifier on
all meta-training classes jointly (all their examples, minibatch Adam); the head is then dropped
and a new episode is classified by nearest centroid on the pretrained features, i.e. the very
prototype rule above with the pretrained f (as in "SimpleShot", Wang et al. 2019, without its
feature normalisation). Both are scored by ``protonet_evaluate`` on the same meta-test episodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from automl_bench.analysis.intervals import Interval, t_interval
from automl_bench.errors import ConfigError
from automl_bench.meta.checks import count, rate
from automl_bench.meta.fewshot import EpisodeSampler

MIN_EPISODES = 600
CHANNELS = 32


def make_embedding(length: int = 40) -> nn.Sequential:
    """A small 1-D CNN: three conv(5)-ReLU-maxpool(2) blocks, flattened (CHANNELS * length / 8)."""
    layers: list[nn.Module] = [nn.Unflatten(1, (1, length))]
    channels = 1
    for _ in range(3):
        layers += [
            nn.Conv1d(channels, CHANNELS, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(2),
        ]
        channels = CHANNELS
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class ProtoSettings:
    """Episodic training (ProtoNets) or joint pretraining (the baseline: ``iterations`` minibatch
    steps of ``batch_size`` examples)."""

    iterations: int = 2000
    meta_batch: int = 4  # episodes per Adam step
    lr: float = 1e-3
    batch_size: int = 64  # the baseline's minibatch

    def __post_init__(self) -> None:
        for name in ("iterations", "meta_batch", "batch_size"):
            count(name, getattr(self, name))
        rate("lr", self.lr)


def _embed(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(B, M, ...) -> (B, M, D)."""
    b, m = int(x.shape[0]), int(x.shape[1])
    out: torch.Tensor = model(x.reshape(b * m, *x.shape[2:]))
    return out.reshape(b, m, -1)


def proto_logits(
    model: nn.Module,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    query_x: torch.Tensor,
    n_way: int,
) -> torch.Tensor:
    """(B, Q, n_way): negative squared distances of query embeddings to class prototypes."""
    support = _embed(model, support_x)
    query = _embed(model, query_x)
    onehot = F.one_hot(support_y, n_way).to(support.dtype)  # (B, S, N)
    prototypes = onehot.transpose(1, 2) @ support / onehot.sum(1).unsqueeze(-1)  # (B, N, D)
    return -((query.unsqueeze(2) - prototypes.unsqueeze(1)) ** 2).sum(-1)


@dataclass(frozen=True)
class ProtoResult:
    model: nn.Module
    losses: list[float]
    seconds: float  # wall time of training


def protonet_train(
    settings: ProtoSettings,
    sampler: EpisodeSampler,
    seed: int = 0,
    on_iteration: Callable[[int, float], None] | None = None,
) -> ProtoResult:
    """ProtoNets on ``sampler``'s (meta-train) episodes, ``settings.meta_batch`` per Adam step."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_embedding(int(sampler.x.shape[1]))
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    for i in range(settings.iterations):
        ep = sampler.sample(settings.meta_batch)
        logits = proto_logits(model, ep.support_x, ep.support_y, ep.query_x, sampler.n_way)
        loss = F.cross_entropy(logits.reshape(-1, sampler.n_way), ep.query_y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(float(loss.detach()))
        if on_iteration is not None:
            on_iteration(i + 1, losses[-1])
    model.eval()
    return ProtoResult(model, losses, time.perf_counter() - start)


def pretrain_classifier(
    settings: ProtoSettings,
    sampler: EpisodeSampler,
    seed: int = 0,
    on_iteration: Callable[[int, float], None] | None = None,
) -> ProtoResult:
    """The baseline: embedding + linear head trained on all of ``sampler``'s classes jointly
    (cross-entropy, minibatches drawn with replacement); returns the embedding without the head."""
    x, y = sampler.examples()
    labels = torch.searchsorted(torch.tensor(sorted(sampler.classes)), y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        embedding = make_embedding(int(x.shape[1]))
        width = int(embedding(x[:1]).shape[1])
        head = nn.Linear(width, len(sampler.classes))
    model = nn.Sequential(embedding, head)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    gen = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    start = time.perf_counter()
    for i in range(settings.iterations):
        rows = torch.randint(len(x), (settings.batch_size,), generator=gen)
        loss = F.cross_entropy(model(x[rows]), labels[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(float(loss.detach()))
        if on_iteration is not None:
            on_iteration(i + 1, losses[-1])
    embedding.eval()
    return ProtoResult(embedding, losses, time.perf_counter() - start)


@dataclass(frozen=True)
class FewShotResult:
    n_way: int
    k_shot: int
    per_episode: list[float]  # query accuracy of each episode, in episode order
    accuracy: Interval  # mean over episodes with a t 95% CI

    def line(self) -> str:
        a = self.accuracy
        return (
            f"{self.n_way}-way {self.k_shot}-shot: {100 * a.estimate:.1f}% "
            f"[{100 * (a.low or 0):.1f}, {100 * (a.high or 0):.1f}] over {a.n} episodes"
        )


def protonet_evaluate(
    model: nn.Module,
    sampler: EpisodeSampler,
    n_episodes: int = MIN_EPISODES,
    chunk: int = 100,
) -> FewShotResult:
    """Nearest-prototype accuracy of ``model``'s embedding on ``n_episodes`` (meta-test)
    episodes. Call it on a fresh sampler (same seed) to score two models on the same episodes."""
    if n_episodes < MIN_EPISODES:
        raise ConfigError("n_episodes", f"at least {MIN_EPISODES}, got {n_episodes}")
    per_episode: list[float] = []
    model.eval()
    with torch.no_grad():
        while len(per_episode) < n_episodes:
            ep = sampler.sample(min(chunk, n_episodes - len(per_episode)))
            logits = proto_logits(model, ep.support_x, ep.support_y, ep.query_x, sampler.n_way)
            hits = (logits.argmax(-1) == ep.query_y).float().mean(1)
            per_episode += [float(h) for h in hits]
    return FewShotResult(sampler.n_way, sampler.k_shot, per_episode, t_interval(per_episode))
