"""Knowledge both processes share: configuration, errors, the trace vocabulary, the KB folder format.

The API and the worker each import this package and ``store``; they never
import each other (``tests/test_import_rules.py`` walks every import to keep
it so). Nothing here imports ``api``, ``worker`` or ``store``, and nothing
here imports a heavy library at module level: the API process loads this
package at start-up and must stay small.
"""
