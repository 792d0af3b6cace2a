print("recorderd: not built yet")
