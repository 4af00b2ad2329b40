"""The log events operators and tests rely on, named once.

An event's text is the ``event`` field of its JSON log line: what an operator greps the journal for,
what an alerting rule on the logs matches, and what the tests look up to see the daemon's state from
outside. That makes these strings a stable vocabulary: the code logs them through these constants,
the tests look them up through the same ones, and a change of wording is a visible change of this
file, not a silent break of someone's log query. Other log lines (debug detail) are free text.
"""

from __future__ import annotations

from typing import Final

# -- the daemon's life ---------------------------------------------------------------------------------

DAEMON_STARTING: Final = "daemon starting"
#: watching its folders (caught up) and connected to the broker or queuing for it: systemd's READY point
DAEMON_READY: Final = "daemon ready"
DAEMON_STOPPED: Final = "daemon stopped"
#: one of the daemon's tasks ended or failed on its own: the daemon stops with a non-zero code
TASK_FAILED: Final = "task failed; stopping"
STATE_FOLDER_IN_USE: Final = "another monitor process uses this state folder"
#: a start-up finding about the broker credentials or TLS files (an error stops the start, a warning not)
BROKER_SETTINGS: Final = "broker settings"
INVALID_WATCHLIST: Final = "invalid watchlist"
METRICS_LISTENING: Final = "metrics endpoint listening"
METRICS_UNAVAILABLE: Final = "metrics endpoint unavailable"
WEB_LISTENING: Final = "console listening"
#: the console's port cannot be had (taken, no permission): the daemon runs on without it
WEB_UNAVAILABLE: Final = "console unavailable; the daemon runs without it"
#: a non-loopback ``[web] host`` without ``password_file`` or ``token_file``: the console stays off
WEB_REFUSED: Final = "console refused: a non-loopback address needs web.password_file or web.token_file"
#: a request the console turned away (bad parameters, unknown ids, bad JSON, forged or unauthenticated)
WEB_BAD_REQUEST: Final = "console request refused"
#: five failed logins from one address within a minute: it is answered 429 for a minute
WEB_LOGIN_THROTTLED: Final = "console login throttled"

# -- articles ------------------------------------------------------------------------------------------

ARTICLE_PROCESSED: Final = "article processed"
#: an article that could not be processed, with its stable reason code (also on ``<prefix>/errors``)
BAD_INPUT_FILE: Final = "bad input file"
ALERT_QUEUED: Final = "alert queued"
READING_BATCH_FAILED: Final = "reading a batch failed; its articles will be retried (files: at the next rescan)"
PROCESSING_BATCH_FAILED: Final = "processing batch failed; its articles will be retried (files: at the next rescan)"
#: a walk of the watched folders; ``why`` says which (catch-up, overflow, periodic)
FOLDERS_SCANNED: Final = "scanned watched folders"
INOTIFY_OVERFLOW: Final = "inotify queue overflowed; rescanning the watched folders"

# -- the broker ----------------------------------------------------------------------------------------

BROKER_CONNECTED: Final = "broker connected"
#: logged once per outage, not once per retry
BROKER_UNREACHABLE: Final = "broker unreachable; alerts stay queued in the outbox"
BROKER_REACHABLE_AGAIN: Final = "broker reachable again"
BACKLOG_DELIVERED: Final = "backlog delivered after outage"
#: logged once per refused topic (an ACL, a quota); the alert stays in the outbox
ALERT_REFUSED: Final = "broker refused an alert; it stays queued in the outbox and is retried"
REFUSED_ALERTS_ACCEPTED: Final = "broker accepts the refused alerts again"

# -- reloads -------------------------------------------------------------------------------------------

WATCHLISTS_RELOADED: Final = "watchlists reloaded"
WATCHLIST_RELOAD_FAILED: Final = "watchlist reload failed; keeping the previous watchlists"
CONFIG_INVALID: Final = "config file invalid; running on the settings it was started with"
RESTART_NEEDED: Final = "config changed; these settings need a restart to apply"

# -- the cluster (monitor/cluster) --------------------------------------------------------------------------
CLUSTER_UNREACHABLE: Final = "NATS cluster unreachable; articles wait on the stream and in the inboxes"
CLUSTER_REACHABLE: Final = "NATS cluster reachable again"
CLUSTER_PROCESSED_BEFORE: Final = "article processed before in the cluster; acknowledged, not tagged again"
CLUSTER_BUCKET_UNAVAILABLE: Final = "the cluster's processed-articles bucket is unavailable; copies may be tagged again"
CLUSTER_HANDED_BACK: Final = "articles waited for a paused pipeline; handed back to the stream for other workers"
CLUSTER_RECEIVED: Final = "article received from the stream"
CLUSTER_ACK_FAILED: Final = "acknowledging an article to the stream failed; it will be redelivered"
CLUSTER_DEAD_LETTER: Final = "article delivered too often without being committed; sent to the dead letters"
STORY_LOG_REPLAYED: Final = "story log read: the cluster's open stories are in this worker's book"
STORY_LOG_UNREACHABLE: Final = "the cluster's story log is unreachable; batches wait to be placed in stories"
STORY_LOG_REACHABLE: Final = "the cluster's story log is reachable again"
STORY_LOG_BEHIND: Final = "the story log's entries are slow to arrive; batches wait to be placed in stories"
STORY_LOG_CONTENDED: Final = "story log contended: a batch was placed again and again after other workers' appends"
STORY_LOG_TOO_LARGE: Final = "a batch's story placements are over the NATS max_payload; the batch is not committed"
STORY_LOG_BAD_ENTRY: Final = "story log entry unreadable; skipped (its stories may open again here)"
