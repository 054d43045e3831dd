"""Component ids, prefixed by their area (``header-``, ``live-``, ``widget-``, ``login-``)."""

HEADER_TITLE = "header-title"
HEADER_UPDATED = "header-updated"
HEADER_USER = "header-user"
HEADER_LOGOUT = "header-logout"
HEADER_AUDIT = "header-audit"
EXPORT_PDF = "export-pdf"
EXPORT_CSV = "export-csv"
THEME_TOGGLE = "theme-toggle"
ALERTS_BADGE = "alerts-badge"
ALERTS_SOUND = "alerts-sound"
ALERTS_TOASTS = "alerts-toasts"
ALERTS_ANNOUNCE = "alerts-announce"
ALERTS_REFRESH = "alerts-refresh"
# the alerts panel: events, rules and the new-rule form
ALERTS_PANEL = "alerts-panel"
ALERTS_EVENTS = "alerts-events"
ALERTS_RULES = "alerts-rules"
ALERTS_FORM_STATUS = "alerts-form-status"
ALERTS_NEW_NAME = "alerts-new-name"
ALERTS_NEW_SERIES = "alerts-new-series"
ALERTS_NEW_LABELS = "alerts-new-labels"
ALERTS_NEW_CONDITION = "alerts-new-condition"
ALERTS_NEW_THRESHOLD = "alerts-new-threshold"
ALERTS_NEW_RESOLVE = "alerts-new-resolve"
ALERTS_NEW_FOR = "alerts-new-for"
ALERTS_NEW_SEVERITY = "alerts-new-severity"
ALERTS_NEW_EXPR = "alerts-new-expr"
ALERTS_NEW_CREATE = "alerts-new-create"
ALERT_EVENT_ACK = "alert-event-ack"  # pattern-matching types: {"type": ..., "event": id}
ALERT_RULE_SNOOZE = "alert-rule-snooze"  # {"type": ..., "rule": id}
ALERT_RULE_DELETE = "alert-rule-delete"  # {"type": ..., "rule": id}
LIVE_STATE = "live-state"
LIVE_BANNER = "live-banner"
LIVE_RETRY = "live-retry"
LIVE_PAUSE = "live-pause"
LIVE_CONFIG = "live-config"
LIVE_CURSOR = "live-cursor"
LIVE_POLL = "live-poll"
LIVE_POLL_DATA = "live-poll-data"
LIVE_SINK = "live-sink"
WIDGETS_GRID = "widgets-grid"
PAGE_URL = "page-url"
DASHBOARD_SELECT = "dashboard-select"
EDIT_TOGGLE = "edit-toggle"
EDIT_FORM = "edit-form"
EDIT_STATUS = "edit-status"
EDIT_DRAWN = "edit-drawn"
WIDGET_EDIT = "widget-edit"
ADD_KIND = "add-kind"
ADD_METRIC = "add-metric"
ADD_LABELS = "add-labels"
ADD_TITLE = "add-title"
ADD_QUERY = "add-query"
ADD_QUERY_HINTS = "add-query-hints"
ADD_QUERY_CHECK = "add-query-check"
ADD_METRIC_HINT = "add-metric-hint"
ADD_QUERY_USE = "add-query-use"
ADD_SUBMIT = "add-submit"
NEW_TITLE = "new-dashboard-title"
NEW_SUBMIT = "new-dashboard-submit"
NOTE_TEXT = "note-text"
NOTE_TIME = "note-time"
NOTE_ADD = "note-add"
RANGE_SELECT = "range-select"
RANGE_FROM = "range-from"
RANGE_TO = "range-to"
RANGE_APPLY = "range-apply"
RANGE_TEXT = "range-text"
RANGE_LIVE = "range-live"
WIDGETS_REFRESH = "widgets-refresh"
SLOW_GRAPH = "widget-slow-graph"
SLOW_TABLE = "widget-slow-table"
LAZY_SLOT = "widget-lazy-slot"
BREADCRUMB = "view-breadcrumb"
FILTER_INPUT = "view-filter"
FILTER_APPLY = "view-filter-apply"
FILTER_STATUS = "view-filter-status"
# the dashboard's variables: a row of dropdowns, one for each ({"type": VARS_SELECT, "name": n})
VARS_BAR = "vars-bar"
VARS_SELECT = "vars-select"

# the sign-in page (its own Dash app at /login/)
LOGIN_USER = "login-username"
LOGIN_PASSWORD = "login-password"  # nosec B105 # a component id, not a password
LOGIN_SUBMIT = "login-submit"
LOGIN_ERROR = "login-error"
LOGIN_SINK = "login-sink"


def widget(wid: str) -> str:
    """The card of a widget."""
    return f"widget-{wid}"


def graph(wid: str) -> str:
    """The main chart of a widget."""
    return f"widget-{wid}-graph"


def value(wid: str) -> str:
    """The big number of a stat widget."""
    return f"widget-{wid}-value"


def spark(wid: str) -> str:
    """The sparkline of a stat widget."""
    return f"widget-{wid}-spark"


def status_item(wid: str, index: int) -> str:
    """One service's pill in a status widget."""
    return f"widget-{wid}-status-{index}"


def table_last(wid: str, index: int) -> str:
    """The last-value cell of a table widget's row."""
    return f"widget-{wid}-last-{index}"


def delta(wid: str) -> str:
    """The change against the previous period under a stat widget's number."""
    return f"widget-{wid}-delta"


# editing: drag and drop, a widget's settings, JSON export and import
EDIT_DROP = "edit-drop"
WIDGET_CONFIG = "widget-config"
CONFIG_FORM = "edit-config-form"
CONFIG_WIDGET = "edit-config-widget"
CONFIG_HEADING = "edit-config-heading"
CONFIG_TITLE = "edit-config-title"
CONFIG_KIND = "edit-config-kind"
CONFIG_AGGREGATION = "edit-config-aggregation"
CONFIG_STEP = "edit-config-step"
CONFIG_SERIES = "edit-config-series"
CONFIG_UNIT = "edit-config-unit"
CONFIG_DECIMALS = "edit-config-decimals"
CONFIG_THRESHOLDS = "edit-config-thresholds"
CONFIG_THRESHOLDS_ERROR = "edit-config-thresholds-error"
CONFIG_LEGEND = "edit-config-legend"
CONFIG_SAVE = "edit-config-save"
CONFIG_CANCEL = "edit-config-cancel"
EXPORT_JSON = "edit-export-json"
IMPORT_UPLOAD = "edit-import-upload"  # the picker's type: drawn with edit mode, so its id is a
# pattern (IMPORT_PICKER) whose callbacks take it as absent until then
IMPORT_PICKER = {"type": IMPORT_UPLOAD, "form": "import"}
IMPORT_SLOT = "edit-import-slot"
IMPORT_TITLE = "edit-import-title"
IMPORT_SUBMIT = "edit-import-submit"
# finding dashboards (layouts/finder.py): the list with its search, tags and stars; copy link
FINDER = "finder"
FINDER_SEARCH = "finder-search"
FINDER_TAG = "finder-tag"
FINDER_STARRED = "finder-starred"
FINDER_LIST = "finder-list"
FINDER_STAR = "finder-star"
FINDER_HOME = "finder-home"
FINDER_STATUS = "finder-status"
COPY_LINK = "copy-link"
COPY_LINK_STATUS = "copy-link-status"
