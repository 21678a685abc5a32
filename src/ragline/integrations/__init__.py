"""ragline inside other frameworks: a LangChain retriever (:mod:`.langchain`, extra
``langchain``) and a LlamaIndex retriever (:mod:`.llamaindex`, extra ``llamaindex``). Each
module imports its framework, so import the one you use; this package imports neither."""
