# One image for web, worker and beat. CPU torch by default; for a GPU worker build with
#   --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128
FROM python:3.11-slim-bookworm

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DESCENT_VAR_DIR=/data DESCENT_MEDIA_ROOT=/data/media DESCENT_STATIC_ROOT=/app/static DEBUG=false

WORKDIR /app
COPY pyproject.toml README.md ./
COPY training ./training
COPY webapp ./webapp
COPY frontend ./frontend
COPY manage.py ./
RUN pip install --no-cache-dir --extra-index-url "$TORCH_INDEX" ".[postgres]" \
    && useradd --create-home descent && mkdir -p /data && chown descent /data \
    && SECRET_KEY=collectstatic-only DESCENT_VAR_DIR=/tmp/build python manage.py collectstatic --noinput -v 0
USER descent
EXPOSE 8000
# web: the ASGI server; override the command for the worker (see docker-compose.yml)
CMD ["sh", "-c", "python manage.py migrate --noinput && exec python -m daphne -b 0.0.0.0 -p 8000 webapp.asgi:application"]
