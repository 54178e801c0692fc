"""Cache policy of the launch task: one Tower launch per set of inputs per flow run."""

from __future__ import annotations

from prefect.cache_policies import INPUTS, RUN_ID

__all__ = ["LAUNCH_CACHE_POLICY"]

# Inputs without the credentials, plus the flow-run id: a retry of the task or of the flow
# run finds the workflow id it launched before; the next flow run launches again. The
# credentials stay out of the key, so the token is never hashed into it and a rotated token
# does not launch again.
LAUNCH_CACHE_POLICY = (INPUTS - "credentials") + RUN_ID
