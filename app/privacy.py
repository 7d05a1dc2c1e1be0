"""The disclosure-control policies of this deployment, built from its configuration only.

``geo`` takes k and the high-risk countries as required arguments; this is the one place they
are read from ``app.config`` (``K_PUBLISHED``, ``K_ANALYST``, ``HIGH_RISK_COUNTRIES``), so every
map, profile, export and coordinator page applies the same settings.
"""

from __future__ import annotations

from flask import current_app

from geo.disclosure import Policy


def high_risk_countries() -> frozenset[str]:
    """Return the countries published at country level only."""
    return frozenset(str(c).upper() for c in current_app.config["HIGH_RISK_COUNTRIES"])


def published_policy() -> Policy:
    """Return the policy for anything the public or a coordinator sees (k = K_PUBLISHED)."""
    return Policy(int(current_app.config["K_PUBLISHED"]), high_risk_countries())


def analyst_policy() -> Policy:
    """Return the policy inside the analyst workspace (k = K_ANALYST)."""
    return Policy(int(current_app.config["K_ANALYST"]), high_risk_countries())


def policy_for(k: int) -> Policy:
    """Return the policy with threshold ``k`` (one of the two configured ones)."""
    return Policy(k, high_risk_countries())
