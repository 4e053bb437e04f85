def home_consultations(): return []
