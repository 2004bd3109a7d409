"""The catch-up's mark on its own transactions (``entrypoints.catchup``).

The running tallies and the words of each ticket are kept by triggers on every write; done statement by statement
in each of the catch-up's chunks, that work would be most of the catch-up. Its transactions set this setting
(``SET LOCAL``), the triggers then do nothing, and the catch-up fills both all at once at its end, before the live
consumer starts (``adapters.schema.refill_tallies``, ``adapters.words_schema.refill_words``).
"""

SETTING = "hostdesk.catching_up"
SET_LOCAL = f"SET LOCAL {SETTING} = on"
# SQL, true in a transaction of the catch-up (an unknown setting reads NULL: false).
IN_CATCH_UP = f"coalesce(current_setting('{SETTING}', true), '') = 'on'"
