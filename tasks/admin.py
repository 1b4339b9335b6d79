# Tasks are clinical records: they change only through the task pages (services.py), never in the
# admin, like followup's clinical records.
