"""Indexing spread over a Ray cluster: workers read, chunk and embed; the driver commits.

Nothing here imports Ray until ``ragline index --ray`` runs (:mod:`ragline.distributed.ray_ingest`).
"""
