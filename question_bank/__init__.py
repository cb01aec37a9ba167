"""revq's question bank: YAML content, its model, loader and validation. Knows nothing of chat."""

from question_bank.loader import BankError, BankProblem, default_bank, load_bank
from question_bank.model import Bank, Question, Topic

__all__ = ["Bank", "BankError", "BankProblem", "Question", "Topic", "default_bank", "load_bank"]
