# The kclusterkit step library: importing it registers every step with behave.
# Add your own step modules beside this file (steps/my_steps.py); behave loads every
# module in steps/, and your steps can use the same driver through `context`.
from kclusterkit.steps import *  # noqa: F401,F403
