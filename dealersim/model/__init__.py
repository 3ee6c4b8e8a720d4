"""One run: parameters, strategies, the market, the people, the Mesa model, KPIs."""
