"""One module per method, each a `Learner` subclass on the shared loop of `learner.py`."""
