"""The LLM side of an answer: the client, the prompts, what a streamed reply means."""
