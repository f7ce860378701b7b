# Image for the web app, the Celery worker and beat (docker-compose.yml). Runs as an unprivileged user.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY web ./web
RUN pip install --no-cache-dir . && useradd --system --home /app zvh
COPY processes ./processes
COPY forms ./forms
USER zvh
EXPOSE 5000
CMD ["zvh", "serve", "--host", "0.0.0.0", "--port", "5000"]
