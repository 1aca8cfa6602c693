"""Which encoder output plays which role, in words and code: the inspector's text follows the model.

The default model uses the first z_dim outputs as μ and the second as log σ (σ = exp(log σ)); the
experiments swap the halves (`--layout logstd-first`) or change how the second half becomes σ
(`--stddev softplus|raw`). Every caption, chart title and readout asks this one object, so none of
them can say "log σ" or "the first half" where the model does something else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vae_desktop.core.config import ModelConfig

_SPREAD = {"exp": "log σ", "softplus": "s", "raw": "σ"}  # the spread output's symbol
_SPREAD_VAR = {"exp": "log_std", "softplus": "s", "raw": "std"}  # its variable in the split line
_SPREAD_WORDS = {"exp": "the log-stddev log σ", "softplus": "the spread s (σ = softplus(s))",
                 "raw": "the stddev σ itself (raw: nothing keeps it positive)"}
_SIGMA = {"exp": "σ = exp(log σ)", "softplus": "σ = softplus(s)", "raw": "σ = the output, as is"}
_TRANSFORM = {"exp": "exp", "softplus": "softplus", "raw": "nothing"}


@dataclass(frozen=True)
class OutputRoles:
    z_dim: int
    layout: str = "mean-first"
    stddev: str = "exp"

    @classmethod
    def of(cls, config: ModelConfig) -> OutputRoles:
        return cls(config.z_dim, config.layout, config.stddev)

    @property
    def mean_first(self) -> bool:
        return self.layout == "mean-first"

    def mean_index(self, d: int) -> int:
        """The encoder output that is μ of dimension d."""
        return d if self.mean_first else self.z_dim + d

    def spread_index(self, d: int) -> int:
        return self.z_dim + d if self.mean_first else d

    def dimension_of(self, output: int) -> tuple[str, int]:
        """("mean" or "spread", dimension d) of encoder output `output`."""
        first = output < self.z_dim
        d = output if first else output - self.z_dim
        return ("mean" if first == self.mean_first else "spread"), d

    @property
    def mean_slice(self) -> str:
        return f":{self.z_dim}" if self.mean_first else f"{self.z_dim}:"

    @property
    def spread_slice(self) -> str:
        return f"{self.z_dim}:" if self.mean_first else f":{self.z_dim}"

    @property
    def mean_outputs(self) -> str:
        """The outputs that are μ, as a range ("0–15")."""
        low = 0 if self.mean_first else self.z_dim
        return f"{low}–{low + self.z_dim - 1}"

    @property
    def spread_outputs(self) -> str:
        low = self.z_dim if self.mean_first else 0
        return f"{low}–{low + self.z_dim - 1}"

    @property
    def mean_half(self) -> str:
        return "first" if self.mean_first else "second"

    @property
    def spread_half(self) -> str:
        return "second" if self.mean_first else "first"

    @property
    def spread(self) -> str:
        """The spread output's symbol: log σ, s or σ."""
        return _SPREAD.get(self.stddev, "s")

    @property
    def spread_words(self) -> str:
        return _SPREAD_WORDS.get(self.stddev, "the spread output")

    @property
    def sigma_formula(self) -> str:
        return _SIGMA.get(self.stddev, "σ")

    @property
    def transform(self) -> str:
        """What turns the spread output into σ: exp, softplus or nothing."""
        return _TRANSFORM.get(self.stddev, "a function")

    def sigma_of(self, value: float) -> float:
        if self.stddev == "exp":
            return math.exp(value)
        if self.stddev == "softplus":
            return math.log1p(math.exp(-abs(value))) + max(value, 0.0)
        return value

    def split_code(self) -> str:
        """The line of code that gives the two halves their roles."""
        spread, z = _SPREAD_VAR.get(self.stddev, "s"), self.z_dim
        first, second = ("mean", spread) if self.mean_first else (spread, "mean")
        return f"{first}, {second} = out[:, :{z}], out[:, {z}:]"
