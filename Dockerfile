FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 chronicle
COPY pyproject.toml README.md ./
COPY chronicle ./chronicle
COPY config ./config
COPY fixtures ./fixtures
COPY manage.py ./
RUN pip install . \
    && mkdir -p /var/chronicle/feeds /var/chronicle/beat /var/chronicle/mail \
    && chown -R chronicle /var/chronicle

# collectstatic needs settings that pass production checks; real values come at run time.
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build CHRONICLE_VAR_DIR=/tmp/build \
    python manage.py collectstatic --noinput --verbosity 0

USER chronicle
ENV CHRONICLE_VAR_DIR=/var/chronicle
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
