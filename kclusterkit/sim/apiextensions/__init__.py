"""apiextensions-apiserver in the simulator: CustomResourceDefinitions and what they serve.

Upstream, CRDs live in their own API server (staging/src/k8s.io/apiextensions-apiserver)
chained behind kube-apiserver, and APIServices in kube-aggregator in front of it. Here:

- ``crd``: the CustomResourceDefinition kind's admission (defaults, validation with
  upstream's field paths and wording);
- ``schema``: the structural OpenAPI v3 schema of a version: pruning of unknown fields,
  defaulting and validation of custom objects with kube-openapi's messages;
- ``registry``: the custom resources an API server currently serves (one per Established
  CRD version), and their admission strategy (status/spec split, scale paths);
- ``controllers``: the naming, establishing and finalizer controllers that run inside the
  API server and turn a CRD into a served API, and take it away again;
- ``apiservices``: APIService objects (apiregistration.k8s.io), one per built-in group
  version as kube-aggregator's autoregister controller creates them.
"""

from __future__ import annotations
