from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HolidaysConfig(AppConfig):
    name = "laoke.holidays"
    label = "holidays"
    verbose_name = _("Holiday campaigns")
    # Seed 000: service assistants (客服) and sales reps (业务员) file gift applications; the service
    # manager and the sales manager review them; the planning department (企划部 = marketer) sets
    # the campaign up, approves finally and hands the list to the courier. The general manager
    # reads. Seed 002: marketers set up the holiday promotions and draw games; cashiers run the
    # draw at the till. The admin holds everything.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            "holidays.view_giftcampaign",
            "holidays.add_giftcampaign",
            "holidays.export_giftcampaign",
            "holidays.view_giftapplication",
            "holidays.approve_giftapplication",
            "holidays.view_drawgame",
            "holidays.add_drawgame",
            "holidays.apply_holiday_promotions",
            "holidays.view_drawentry",
        ],
        "service_agent": [
            "holidays.view_giftcampaign",
            "holidays.view_giftapplication",
            "holidays.add_giftapplication",
        ],
        "sales_rep": [
            "holidays.view_giftcampaign",
            "holidays.view_giftapplication",
            "holidays.add_giftapplication",
        ],
        "service_manager": [
            "holidays.view_giftcampaign",
            "holidays.view_giftapplication",
            "holidays.add_giftapplication",
            "holidays.review_service_giftapplication",
        ],
        "sales_manager": [
            "holidays.view_giftcampaign",
            "holidays.view_giftapplication",
            "holidays.add_giftapplication",
            "holidays.review_sales_giftapplication",
        ],
        "general_manager": ["holidays.view_giftcampaign", "holidays.view_giftapplication"],
        "cashier": ["holidays.view_drawgame", "holidays.add_drawentry"],
        "analyst": ["holidays.view_drawgame", "holidays.view_drawentry", "holidays.view_giftcampaign"],
    }
