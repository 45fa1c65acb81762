"""Featurised recipes → a predicted outcome with its uncertainty: a Gaussian process.

Why a GP (docs/PLANNER.md has the comparison that chose it): a lab has tens to a
few thousand results, where a GP is exact, fast enough, and its standard
deviation means something (80 % intervals covered ~80 % of next results in
``bench/planner.py``); a product kernel over element descriptors lets a metal
pair never made borrow from its neighbours in the periodic table.

* Kernel: a constant times a Matérn 5/2 with one length scale per feature (the
  model learns which features matter), plus white noise (replicates disagree).
* Inputs standardised on the training data; the outcome normalised.
* Reproducible: the optimiser's restarts draw from ``seed``; the same data and
  seed give the same model. ``model_id`` names the data (objective,
  featurisation and every training row), so a prediction can be traced to what
  the model saw and a process can cache fitted models by it.
* Bounded time: above ``HYPER_SUBSET`` rows the kernel's parameters are fitted
  on a deterministic subset and the full data is then conditioned on with
  those parameters (one Cholesky): 2,000 results fit in well under a second.
"""
from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass

import numpy as np

from core.planner.features import featurise
from core.recipe_key import RecipeKey

Z80 = 1.2815515655446004  # the 90th percentile of a normal: mean ± Z80·sd is an 80 % interval
HYPER_SUBSET = 200  # three kernel parameters are well fixed by 200 results; the Cholesky uses all
MODEL_VERSION = 1


@dataclass(frozen=True)
class Observation:
    """One result the model learns from: the recipe and its objective value (a failed synthesis: 0)."""

    key: RecipeKey
    value: float
    failed: bool = False


@dataclass(frozen=True)
class Prediction:
    mean: float
    sd: float

    @property
    def low(self) -> float:
        return max(0.0, self.mean - Z80 * self.sd)

    @property
    def high(self) -> float:
        return min(1.0, self.mean + Z80 * self.sd)


def model_id_for(objective: str, featurisation: str, observations: list[Observation]) -> str:
    rows = sorted((str(o.key), round(o.value, 9), o.failed) for o in observations)
    text = json.dumps({"v": MODEL_VERSION, "objective": objective, "features": featurisation, "rows": rows})
    return "model_" + hashlib.sha256(text.encode()).hexdigest()[:16]


class Surrogate:
    """A fitted GP over recipe keys. Build with :meth:`fit`; ask with :meth:`predict`."""

    def __init__(self, featurisation: str = "descriptors", seed: int = 0, per_feature_scales: bool = False):
        self.featurisation, self.seed = featurisation, seed
        self.per_feature_scales = per_feature_scales
        self._gp = None
        self._center = self._scale = None

    def _inputs(self, keys: list[RecipeKey]) -> np.ndarray:
        return (featurise(keys, self.featurisation) - self._center) / self._scale

    def fit(self, keys: list[RecipeKey], values: list[float], kernel=None) -> "Surrogate":
        """Fit on (key, value) pairs; ``kernel`` (an already fitted one) skips the optimiser."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        raw = featurise(keys, self.featurisation)
        self._center = raw.mean(axis=0)
        spread = raw.std(axis=0)
        self._scale = np.where(spread > 1e-12, spread, 1.0)
        x, y = (raw - self._center) / self._scale, np.asarray(values, dtype=float)
        if kernel is None:
            scales = np.full(x.shape[1], 3.0) if self.per_feature_scales else 3.0
            kernel = (ConstantKernel(1.0, (1e-2, 1e2))
                      * Matern(length_scale=scales, length_scale_bounds=(1e-1, 1e3), nu=2.5)
                      + WhiteKernel(1e-2, (1e-5, 1.0)))
            if len(y) > HYPER_SUBSET:
                subset = np.random.default_rng(self.seed).choice(len(y), HYPER_SUBSET, replace=False)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    probe = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=1,
                                                     random_state=self.seed).fit(x[subset], y[subset])
                kernel = probe.kernel_
                optimizer = None
            else:
                optimizer = "fmin_l_bfgs_b"
        else:
            optimizer = None
        restarts = 2 if optimizer else 0
        with warnings.catch_warnings():  # a length scale at its bound is an answer, not a problem
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._gp = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=optimizer,
                                                n_restarts_optimizer=restarts, random_state=self.seed).fit(x, y)
        return self

    @property
    def kernel(self):
        """The fitted kernel: a fantasy refit (pending experiments) keeps it instead of re-optimising."""
        return self._gp.kernel_

    def joint(self, keys: list[RecipeKey]) -> tuple[np.ndarray, np.ndarray]:
        """Mean vector and covariance of the next results of ``keys`` (noise included): what a
        batch needs to count one pick's effect on the others' uncertainty."""
        mean, cov = self._gp.predict(self._inputs(keys), return_cov=True)
        return np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)

    def leave_one_out(self, values: list[float]) -> list[Prediction]:
        """For each training result, the model's prediction from all the *other* results.

        What calibration is judged on: a model always looks right on the data it
        saw. Closed form for a GP with fixed kernel (Rasmussen & Williams, eq.
        5.12), from the fitted kernel on the standardised inputs and the outcome
        normalised as the fit normalised it.
        """
        from scipy.linalg import cho_factor, cho_solve

        y = np.asarray(values, dtype=float)
        center, spread = y.mean(), y.std()
        spread = spread if spread > 0 else 1.0
        gram = self._gp.kernel_(self._gp.X_train_)  # noise on the diagonal (the white kernel)
        inverse = cho_solve(cho_factor(gram + 1e-10 * np.eye(len(y))), np.eye(len(y)))
        normalised = (y - center) / spread
        alpha = inverse @ normalised
        diagonal = np.diag(inverse)
        means = (normalised - alpha / diagonal) * spread + center
        sds = np.sqrt(1.0 / diagonal) * spread
        return [Prediction(float(np.clip(m, 0.0, 1.0)), float(s)) for m, s in zip(means, sds)]

    def predict(self, keys: list[RecipeKey]) -> list[Prediction]:
        if not keys:
            return []
        mean, sd = self._gp.predict(self._inputs(keys), return_std=True)
        return [Prediction(float(np.clip(m, 0.0, 1.0)), float(max(s, 1e-9))) for m, s in zip(mean, sd)]


def normal_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))
