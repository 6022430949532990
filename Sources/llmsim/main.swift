print("llmsim")
