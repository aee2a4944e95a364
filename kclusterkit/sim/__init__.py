"""A whole Kubernetes cluster as a deterministic discrete-event simulation.

Objects are plain dicts in the Kubernetes JSON shape; time is virtual and every random
choice comes from one seeded source, so the same seed replays the same cluster history.
Nothing here imports behave, the driver or the kubernetes client.
"""

from __future__ import annotations
