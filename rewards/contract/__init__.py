"""What the judge exchanges with its callers: the task, the code pulled from a completion, the prompt, the
settings of one engine and the verdict. Imports nothing else of the judge, so every layer may use it."""
