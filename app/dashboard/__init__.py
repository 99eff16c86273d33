"""Pages inside the Saleor dashboard iframe, and the app's public about pages."""
