"""django-tables2 tables for the worklists and patient search.

Every table reads only what its QuerySet already joined (see worklists.py), so a
page costs the same number of queries whatever its length. cells.py has the pieces
(row URLs, columns, row actions, the base table), worklists.py the table of each list.
"""

from .cells import (
    ActionsColumn,
    DateColumn,
    NhsNumberColumn,
    NurseColumn,
    PatientColumn,
    WorklistTable,
    acknowledge_url,
    row_form_refused,
    row_links,
    row_patient_name,
    tag,
    url_for,
)
from .worklists import (
    NEED_COLOURS,
    DataQualityTable,
    DistantNotRecordedTable,
    DueSoonTable,
    FollowUpTable,
    LastFollowUpColumn,
    NoNextFollowUpTable,
    OverdueTable,
    PatientTable,
    RestagingTable,
    ResultAwaitedTable,
    ResultsTable,
    ResultTable,
    StagingResultTable,
    SymptomTable,
    needs,
    restaging_status,
    result_escalated,
)

__all__ = [
    "ActionsColumn",
    "DataQualityTable",
    "DateColumn",
    "DistantNotRecordedTable",
    "DueSoonTable",
    "FollowUpTable",
    "LastFollowUpColumn",
    "NEED_COLOURS",
    "NhsNumberColumn",
    "NoNextFollowUpTable",
    "NurseColumn",
    "OverdueTable",
    "PatientColumn",
    "PatientTable",
    "RestagingTable",
    "ResultAwaitedTable",
    "ResultTable",
    "ResultsTable",
    "StagingResultTable",
    "SymptomTable",
    "WorklistTable",
    "acknowledge_url",
    "row_form_refused",
    "needs",
    "restaging_status",
    "result_escalated",
    "row_links",
    "row_patient_name",
    "tag",
    "url_for",
]
