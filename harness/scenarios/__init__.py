"""Support for the structured Market Sim plan written as Gherkin (features/ + scenarios/).

The feature files and the step library live at the top of the repository so QA can read and
extend them without touching Python packaging; this package holds what makes them runnable:
the plan and its traceability matrix (``plan``, ``matrix``), feature discovery and tag
handling and Cucumber tag expressions (``features``), the run settings passed to pytest (``settings``), who
plays the CRR team (``team``), the pytest plugin glue (``pytest_plugin``), the step listing
(``stepdocs``) and the runner behind ``crrsim scenarios`` (``runner``).
"""
