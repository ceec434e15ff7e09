"""How to serve the built site: deploy/nginx.conf, and deploy/serve.py to run it locally."""
