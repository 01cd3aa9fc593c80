"""One JSON object per log line (LOG_JSON=1), for log shippers that parse fields.

Fields: ``ts`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``process``, then any
``extra=`` values of the call, the request's method and path where Django passes the
request, and ``exc`` with the formatted traceback. Values JSON cannot hold become strings.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# attributes every LogRecord has; anything else on a record came from ``extra=``
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if key == "request":  # django.request and django.server pass the request object
                out["method"] = getattr(value, "method", None)
                out["path"] = getattr(value, "path", None)
                continue
            out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        try:
            return json.dumps(out, default=str, ensure_ascii=False)
        except ValueError:  # a circular extra: keep the line, lose the extras
            return json.dumps({k: out[k] for k in ("ts", "level", "logger", "message", "process")}, ensure_ascii=False)
