print("gridlite")
