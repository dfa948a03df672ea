"""The one change store: every write the console makes to a gateway row, grouped by operation.

Like NetBox's ObjectChange: an ``Operation`` is one request, import, fix run, undo, rotation,
connection test or command (who, when, source, reason, one correlation id); a ``Change`` is one
row it wrote, with the columns' values before and after. Secret columns hold only fingerprints.
Every page that shows history reads only these two tables.
"""
