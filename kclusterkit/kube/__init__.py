"""Kubernetes' own vocabulary, shared by every layer: object metadata, label and field
selectors, resource quantities.

The simulator needs them to be a cluster, the driver needs them to read one; neither may
import the other, so they live here and import nothing of kclusterkit.
"""
