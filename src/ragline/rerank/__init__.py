"""Stage two of retrieval: re-rankers (cross-encoder, ColBERT) behind one protocol."""
