package emulator

import (
	"strings"
)

// The built-in object types: HubSpot's standard objects the product backs up,
// plus one custom object. Property sets are modelled on real portals: dozens
// per object, a few read-only or calculated, some sensitive, some mostly empty.
//
// A property spec is "name|label|type|fieldType|generator|flags", where flags
// is a comma list of: ro (read-only value), calc (calculated), uniq (unique
// value), hidden, sens (sensitive), hsens (highly sensitive), req (never
// empty), empty (always empty), opts=a;b;c (enumeration options).

type typeSpec struct {
	id, name         string
	singular, plural string
	custom           bool
	// always are returned whatever the request asks; defaults when it asks nothing.
	always, defaults []string
	props            []string
}

var common = []string{
	"hs_object_id|Record ID|number|number|id|ro,req",
	"hubspot_owner_id|Owner|enumeration|select|owner|",
	"hs_created_by_user_id|Created by user ID|number|number|int:1000:1100|ro",
	"hs_updated_by_user_id|Updated by user ID|number|number|int:1000:1100|ro",
	"hs_merged_object_ids|Merged record IDs|enumeration|checkbox|empty|ro,empty",
	"hs_all_owner_ids|All owner IDs|enumeration|checkbox|owner|ro",
}

// objectSpecs lists the built-in types in discovery order.
var objectSpecs = []typeSpec{
	{
		id: "0-1", name: "contacts", singular: "Contact", plural: "Contacts",
		always:   []string{"hs_object_id", "createdate", "lastmodifieddate"},
		defaults: []string{"hs_object_id", "createdate", "lastmodifieddate", "email", "firstname", "lastname"},
		props: []string{
			"createdate|Create Date|datetime|date|created|ro,req",
			"lastmodifieddate|Last Modified Date|datetime|date|modified|ro,req",
			"firstname|First Name|string|text|first|",
			"lastname|Last Name|string|text|last|",
			"email|Email|string|text|email|uniq",
			"phone|Phone Number|string|phonenumber|phone|",
			"mobilephone|Mobile Phone Number|string|phonenumber|phone|",
			"fax|Fax Number|string|phonenumber|empty|empty",
			"company|Company Name|string|text|company|",
			"jobtitle|Job Title|string|text|jobtitle|",
			"website|Website URL|string|text|url|",
			"address|Street Address|string|text|street|",
			"city|City|string|text|city|",
			"state|State/Region|string|text|state|",
			"zip|Postal Code|string|text|zip|",
			"country|Country/Region|string|text|country|",
			"lifecyclestage|Lifecycle Stage|enumeration|radio|enum|req,opts=subscriber;lead;marketingqualifiedlead;salesqualifiedlead;opportunity;customer;evangelist;other",
			"hs_lead_status|Lead Status|enumeration|select|enum|opts=NEW;OPEN;IN_PROGRESS;OPEN_DEAL;UNQUALIFIED;ATTEMPTED_TO_CONTACT;CONNECTED;BAD_TIMING",
			"hs_language|Preferred language|enumeration|select|enum|opts=en;de;fr;es;ja;pt-br",
			"industry|Industry|string|text|industry|",
			"annualrevenue|Annual Revenue|string|text|money|",
			"numemployees|Number of Employees|enumeration|select|enum|opts=1-5;5-25;25-50;50-100;100-500;500-1000;1000+",
			"message|Message|string|textarea|note|",
			"hs_content_membership_notes|Membership Notes|string|textarea|note|",
			"date_of_birth|Date of birth|date|date|dob|sens",
			"hs_persona|Persona|enumeration|radio|enum|opts=persona_1;persona_2;persona_3",
			"hs_email_optout|Unsubscribed from all email|bool|booleancheckbox|bool|",
			"hs_marketable_status|Marketing contact status|enumeration|booleancheckbox|bool|ro",
			"hs_analytics_source|Original Source|enumeration|select|enum|ro,opts=ORGANIC_SEARCH;PAID_SEARCH;EMAIL_MARKETING;SOCIAL_MEDIA;REFERRALS;OTHER_CAMPAIGNS;DIRECT_TRAFFIC;OFFLINE",
			"hs_analytics_num_visits|Number of Sessions|number|number|int:0:400|calc",
			"hs_analytics_num_page_views|Number of Pageviews|number|number|int:0:2000|calc",
			"hs_analytics_first_timestamp|Time First Seen|datetime|date|datetime|calc",
			"num_associated_deals|Number of Associated Deals|number|number|int:0:9|calc",
			"num_contacted_notes|Number of times contacted|number|number|int:0:40|calc",
			"hubspotscore|HubSpot Score|number|number|int:0:100|calc",
			"notes_last_updated|Last Activity Date|datetime|date|datetime|ro",
			"notes_last_contacted|Last Contacted|datetime|date|datetime|ro",
			"hs_sequences_is_enrolled|Currently in Sequence|bool|booleancheckbox|bool|ro",
			"hs_whatsapp_phone_number|WhatsApp Phone Number|string|phonenumber|phone|",
			"twitterhandle|Twitter Username|string|text|handle|",
			"hs_linkedin_url|LinkedIn URL|string|text|url|",
			"salutation|Salutation|string|text|salutation|",
			"gender|Gender|enumeration|select|enum|opts=female;male;non_binary;unspecified",
			"marital_status|Marital Status|enumeration|select|enum|opts=single;married;divorced;widowed",
			"hs_buying_role|Buying Role|enumeration|checkbox|multi|opts=BLOCKER;BUDGET_HOLDER;CHAMPION;DECISION_MAKER;END_USER;EXECUTIVE_SPONSOR;INFLUENCER",
			"national_id|National ID number|string|text|ssn|hsens",
			"health_notes|Health notes|string|textarea|note|hsens",
			"passport_number|Passport number|string|text|passport|sens",
			"customer_tier|Customer tier|enumeration|select|enum|opts=bronze;silver;gold;platinum",
			"favorite_quote|Favorite quote|string|text|tricky|",
			"nps_score|NPS score|number|number|int:0:10|",
			"renewal_date|Renewal date|date|date|date|",
			"contract_value|Contract value|number|number|money|",
			"internal_comments|Internal comments|string|textarea|note|hidden",
			"legacy_crm_id|Legacy CRM ID|string|text|legacy|uniq",
		},
	},
	{
		id: "0-2", name: "companies", singular: "Company", plural: "Companies",
		always:   []string{"hs_object_id", "createdate", "hs_lastmodifieddate"},
		defaults: []string{"hs_object_id", "createdate", "hs_lastmodifieddate", "name", "domain"},
		props: []string{
			"createdate|Create Date|datetime|date|created|ro,req",
			"hs_lastmodifieddate|Last Modified Date|datetime|date|modified|ro,req",
			"name|Company name|string|text|company|req",
			"domain|Company Domain Name|string|text|domain|",
			"website|Website URL|string|text|url|",
			"phone|Phone Number|string|phonenumber|phone|",
			"address|Street Address|string|text|street|",
			"address2|Street Address 2|string|text|empty|empty",
			"city|City|string|text|city|",
			"state|State/Region|string|text|state|",
			"zip|Postal Code|string|text|zip|",
			"country|Country/Region|string|text|country|",
			"industry|Industry|enumeration|select|enum|opts=COMPUTER_SOFTWARE;FINANCIAL_SERVICES;HOSPITAL_HEALTH_CARE;RETAIL;MANUFACTURING;EDUCATION_MANAGEMENT;MARKETING_AND_ADVERTISING",
			"type|Type|enumeration|select|enum|opts=PROSPECT;PARTNER;RESELLER;VENDOR;OTHER",
			"description|Description|string|textarea|note|",
			"numberofemployees|Number of Employees|number|number|int:1:50000|",
			"annualrevenue|Annual Revenue|number|number|money|",
			"founded_year|Year Founded|string|text|int:1850:2024|",
			"is_public|Is Public|bool|booleancheckbox|bool|",
			"timezone|Time Zone|string|text|tz|",
			"linkedin_company_page|LinkedIn Company Page|string|text|url|",
			"twitterhandle|Twitter Handle|string|text|handle|",
			"lifecyclestage|Lifecycle Stage|enumeration|radio|enum|opts=lead;opportunity;customer;other",
			"hs_lead_status|Lead Status|enumeration|select|enum|opts=NEW;OPEN;IN_PROGRESS;UNQUALIFIED",
			"num_associated_contacts|Number of Associated Contacts|number|number|int:0:50|calc",
			"num_associated_deals|Number of Associated Deals|number|number|int:0:12|calc",
			"hs_num_child_companies|Number of child companies|number|number|int:0:3|calc",
			"total_revenue|Total Revenue|number|number|money|calc",
			"notes_last_updated|Last Activity Date|datetime|date|datetime|ro",
			"hs_analytics_source|Original Source Type|enumeration|select|enum|ro,opts=ORGANIC_SEARCH;DIRECT_TRAFFIC;REFERRALS;OFFLINE",
			"tax_id|Tax ID|string|text|taxid|sens",
			"bank_account|Bank account (IBAN)|string|text|iban|hsens",
			"account_notes|Account notes|string|textarea|tricky|",
			"hs_ideal_customer_profile|Ideal Customer Profile Tier|enumeration|radio|enum|opts=tier_1;tier_2;tier_3",
		},
	},
	{
		id: "0-3", name: "deals", singular: "Deal", plural: "Deals",
		always:   []string{"hs_object_id", "createdate", "hs_lastmodifieddate"},
		defaults: []string{"hs_object_id", "createdate", "hs_lastmodifieddate", "dealname", "amount", "closedate", "pipeline", "dealstage"},
		props: []string{
			"createdate|Create Date|datetime|date|created|ro,req",
			"hs_lastmodifieddate|Last Modified Date|datetime|date|modified|ro,req",
			"dealname|Deal Name|string|text|dealname|req",
			"amount|Amount|number|number|money|",
			"closedate|Close Date|datetime|date|datetime|",
			"pipeline|Pipeline|enumeration|select|enum|req,opts=default;enterprise",
			"dealstage|Deal Stage|enumeration|radio|enum|req,opts=appointmentscheduled;qualifiedtobuy;presentationscheduled;decisionmakerboughtin;contractsent;closedwon;closedlost",
			"dealtype|Deal Type|enumeration|radio|enum|opts=newbusiness;existingbusiness",
			"description|Deal Description|string|textarea|note|",
			"hs_priority|Priority|enumeration|select|enum|opts=low;medium;high",
			"hs_deal_stage_probability|Deal Stage Probability|number|number|pct|calc",
			"hs_forecast_amount|Forecast Amount|number|number|money|calc",
			"hs_forecast_probability|Forecast Probability|number|number|pct|",
			"hs_manual_forecast_category|Forecast Category|enumeration|select|enum|opts=OMIT;PIPELINE;BEST_CASE;COMMIT;CLOSED",
			"hs_next_step|Next Step|string|textarea|tricky|",
			"hs_acv|Annual contract value|number|number|money|calc",
			"hs_arr|Annual recurring revenue|number|number|money|calc",
			"hs_mrr|Monthly recurring revenue|number|number|money|calc",
			"hs_tcv|Total contract value|number|number|money|calc",
			"days_to_close|Days to close|number|number|int:0:400|calc",
			"num_associated_contacts|Number of Contacts|number|number|int:0:10|calc",
			"num_contacted_notes|Number of times contacted|number|number|int:0:30|calc",
			"notes_last_updated|Last Activity Date|datetime|date|datetime|ro",
			"hs_closed_won_reason|Closed Won Reason|string|textarea|note|",
			"hs_closed_lost_reason|Closed Lost Reason|string|textarea|note|",
			"deal_currency_code|Currency|enumeration|select|enum|opts=USD;EUR;GBP;JPY",
			"contract_terms|Contract terms|string|textarea|note|sens",
			"discount_percent|Discount (%)|number|number|pct|",
			"competitor|Competitor|enumeration|checkbox|multi|opts=acme;globex;initech;umbrella;hooli",
			"renewal_date|Renewal date|date|date|date|",
		},
	},
	{
		id: "0-5", name: "tickets", singular: "Ticket", plural: "Tickets",
		always:   []string{"hs_object_id", "createdate", "hs_lastmodifieddate"},
		defaults: []string{"hs_object_id", "createdate", "hs_lastmodifieddate", "subject", "content", "hs_pipeline", "hs_pipeline_stage"},
		props: []string{
			"createdate|Create date|datetime|date|created|ro,req",
			"hs_lastmodifieddate|Last modified date|datetime|date|modified|ro,req",
			"subject|Ticket name|string|text|subject|req",
			"content|Ticket description|string|textarea|note|",
			"hs_pipeline|Pipeline|enumeration|select|enum|req,opts=0;support_2",
			"hs_pipeline_stage|Ticket status|enumeration|select|enum|req,opts=1;2;3;4",
			"hs_ticket_priority|Priority|enumeration|select|enum|opts=LOW;MEDIUM;HIGH;URGENT",
			"hs_ticket_category|Category|enumeration|checkbox|multi|opts=PRODUCT_ISSUE;BILLING_ISSUE;FEATURE_REQUEST;GENERAL_INQUIRY",
			"source_type|Source|enumeration|select|enum|opts=CHAT;EMAIL;FORM;PHONE",
			"hs_resolution|Resolution|enumeration|select|enum|opts=ISSUE_FIXED;KNOWLEDGE_GAP;PRODUCT_EDUCATION;OTHER",
			"closed_date|Close date|datetime|date|datetime|",
			"first_agent_reply_date|First agent email reply date|datetime|date|datetime|ro",
			"time_to_close|Time to close|number|number|int:0:9000000|calc",
			"time_to_first_agent_reply|Time to first agent email reply|number|number|int:0:900000|calc",
			"hs_num_times_contacted|Number of times contacted|number|number|int:0:30|calc",
			"hs_feedback_last_ces_rating|Last CES rating|number|number|int:1:7|ro",
			"hs_feedback_last_ces_follow_up|Last CES follow up answer|string|textarea|tricky|ro",
			"hs_ticket_id|Ticket ID|number|number|id|ro",
			"hs_tag_ids|Tags|enumeration|checkbox|multi|opts=vip;escalated;bug;refund",
			"customer_account_number|Customer account number|string|text|legacy|sens",
			"internal_notes|Internal notes|string|textarea|note|",
			"hs_in_helpdesk|In help desk|bool|booleancheckbox|bool|ro",
			"nps_follow_up_answer|NPS follow-up answer|string|textarea|tricky|",
			"sla_due|SLA due date|datetime|date|datetime|",
			"product_area|Product area|enumeration|select|enum|opts=billing;api;ui;mobile;integrations",
		},
	},
	{
		id: "0-7", name: "products", singular: "Product", plural: "Products",
		always:   []string{"hs_object_id", "createdate", "hs_lastmodifieddate"},
		defaults: []string{"hs_object_id", "createdate", "hs_lastmodifieddate", "name", "price", "description"},
		props: []string{
			"createdate|Create Date|datetime|date|created|ro,req",
			"hs_lastmodifieddate|Last Modified Date|datetime|date|modified|ro,req",
			"name|Name|string|text|product|req",
			"description|Description|string|textarea|note|",
			"price|Unit price|number|number|money|",
			"hs_cost_of_goods_sold|Unit cost|number|number|money|",
			"hs_sku|SKU|string|text|sku|uniq",
			"hs_url|URL|string|text|url|",
			"hs_product_type|Product type|enumeration|select|enum|opts=inventory;non_inventory;service",
			"hs_recurring_billing_period|Term|string|text|term|",
			"recurringbillingfrequency|Billing frequency|enumeration|select|enum|opts=monthly;quarterly;annually",
			"tax|Tax|number|number|pct|",
			"hs_folder_id|Folder|number|number|int:1:12|",
			"hs_images|Image URL|string|text|url|",
			"discount|Discount|number|number|money|",
			"hs_product_id_legacy|Legacy product ID|string|text|legacy|ro",
			"hs_avatar_filemanager_key|Avatar key|string|text|empty|ro,empty",
			"supplier|Supplier|string|text|company|",
			"warranty_terms|Warranty terms|string|textarea|tricky|",
			"weight_kg|Weight (kg)|number|number|int:1:400|",
			"is_discontinued|Discontinued|bool|booleancheckbox|bool|",
			"hs_merged_object_ids_legacy|Merged IDs (legacy)|string|text|empty|empty",
		},
	},
	{
		id: "0-48", name: "calls", singular: "Call", plural: "Calls",
		always:   []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate"},
		defaults: []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate", "hs_timestamp", "hs_call_title"},
		props: []string{
			"hs_createdate|Create date|datetime|date|created|ro,req",
			"hs_lastmodifieddate|Last modified date|datetime|date|modified|ro,req",
			"hs_timestamp|Activity date|datetime|date|datetime|req",
			"hs_call_title|Call title|string|text|subject|",
			"hs_call_body|Call notes|string|textarea|note|",
			"hs_call_direction|Call direction|enumeration|select|enum|opts=INBOUND;OUTBOUND",
			"hs_call_disposition|Call outcome|enumeration|select|enum|opts=busy;connected;left_live_message;left_voicemail;no_answer;wrong_number",
			"hs_call_duration|Call duration|number|number|int:0:3600000|",
			"hs_call_from_number|From number|string|phonenumber|phone|",
			"hs_call_to_number|To number|string|phonenumber|phone|",
			"hs_call_recording_url|Recording URL|string|text|url|",
			"hs_call_status|Call status|enumeration|select|enum|opts=BUSY;CALLING_CRM_USER;CANCELED;COMPLETED;CONNECTING;FAILED;IN_PROGRESS;NO_ANSWER;QUEUED;RINGING",
			"hs_call_transcription_id|Transcription ID|string|text|legacy|ro",
			"hs_call_source|Source|enumeration|select|enum|ro,opts=CALLING_SDK;HUBSPOT_CALLING;INTEGRATIONS_PLATFORM",
			"hs_activity_type|Call and meeting type|enumeration|select|enum|opts=Discovery;Demo;Follow-up;Renewal",
			"hs_at_mentioned_owner_ids|At-mentioned owners|enumeration|checkbox|empty|ro,empty",
			"hs_call_has_transcript|Has transcript|bool|booleancheckbox|bool|calc",
			"hs_call_summary|Call summary|string|textarea|tricky|",
			"hs_body_preview|Body preview|string|textarea|note|calc",
			"hs_call_callee_object_type|Callee object type|enumeration|select|enum|ro,opts=CONTACT;COMPANY",
		},
	},
	{
		id: "0-27", name: "tasks", singular: "Task", plural: "Tasks",
		always:   []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate"},
		defaults: []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate", "hs_timestamp", "hs_task_subject"},
		props: []string{
			"hs_createdate|Create date|datetime|date|created|ro,req",
			"hs_lastmodifieddate|Last modified date|datetime|date|modified|ro,req",
			"hs_timestamp|Due date|datetime|date|datetime|req",
			"hs_task_subject|Task title|string|text|subject|req",
			"hs_task_body|Notes|string|textarea|note|",
			"hs_task_status|Task status|enumeration|select|enum|req,opts=NOT_STARTED;IN_PROGRESS;WAITING;COMPLETED;DEFERRED",
			"hs_task_priority|Priority|enumeration|select|enum|opts=NONE;LOW;MEDIUM;HIGH",
			"hs_task_type|Task type|enumeration|select|enum|opts=CALL;EMAIL;TODO;LINKED_IN",
			"hs_task_reminders|Reminder|string|text|millis|",
			"hs_task_completion_date|Completed at|datetime|date|datetime|ro",
			"hs_task_is_overdue|Is overdue|bool|booleancheckbox|bool|calc",
			"hs_task_is_completed|Is completed|number|number|int:0:1|calc",
			"hs_queue_membership_ids|Queues|enumeration|checkbox|multi|opts=1001;1002;1003",
			"hs_task_repeat_interval|Repeat interval|string|text|empty|empty",
			"hs_body_preview|Body preview|string|textarea|note|calc",
			"hs_task_for_object_type|For object type|enumeration|select|enum|ro,opts=CONTACT;COMPANY;DEAL;TICKET",
			"hs_task_last_contact_outreach|Last contact outreach|datetime|date|datetime|ro",
			"follow_up_notes|Follow-up notes|string|textarea|tricky|",
		},
	},
	{
		id: "2-3508482", name: "vehicles", singular: "Vehicle", plural: "Vehicles", custom: true,
		always:   []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate"},
		defaults: []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate", "vin"},
		props: []string{
			"hs_createdate|Object create date/time|datetime|date|created|ro,req",
			"hs_lastmodifieddate|Object last modified date/time|datetime|date|modified|ro,req",
			"vin|VIN|string|text|vin|req,uniq",
			"make|Make|enumeration|select|enum|opts=Volvo;Toyota;Ford;Škoda;Citroën;Tesla",
			"model|Model|string|text|model|",
			"model_year|Model year|number|number|int:1995:2025|",
			"color|Colour|string|text|color|",
			"mileage_km|Mileage (km)|number|number|int:0:400000|",
			"purchase_price|Purchase price|number|number|money|",
			"registration_plate|Registration plate|string|text|plate|sens",
			"owner_notes|Owner notes|string|textarea|tricky|",
			"service_history|Service history|string|textarea|note|",
			"is_electric|Electric|bool|booleancheckbox|bool|",
			"first_registration|First registration|date|date|date|",
			"insurance_policy|Insurance policy number|string|text|legacy|hsens",
			"hs_record_source|Record source|string|text|empty|ro,empty",
		},
	},
}

// conversationsName is the pseudo object type of inbox threads.
const conversationsName = "conversations"

// propSpec is one parsed property spec.
type propSpec struct {
	name, label, typ, fieldType, gen string
	readOnly, calculated, unique     bool
	hidden, required, alwaysEmpty    bool
	sensitivity                      string
	options                          []string
}

func parsePropSpec(s string) propSpec {
	f := strings.Split(s, "|")
	if len(f) != 6 {
		panic("emulator: bad property spec " + s)
	}
	p := propSpec{name: f[0], label: f[1], typ: f[2], fieldType: f[3], gen: f[4], sensitivity: "non_sensitive"}
	for flag := range strings.SplitSeq(f[5], ",") {
		switch {
		case flag == "":
		case flag == "ro":
			p.readOnly = true
		case flag == "calc":
			p.calculated, p.readOnly = true, true
		case flag == "uniq":
			p.unique = true
		case flag == "hidden":
			p.hidden = true
		case flag == "sens":
			p.sensitivity = "sensitive"
		case flag == "hsens":
			p.sensitivity = "highly_sensitive"
		case flag == "req":
			p.required = true
		case flag == "empty":
			p.alwaysEmpty = true
		case strings.HasPrefix(flag, "opts="):
			p.options = strings.Split(strings.TrimPrefix(flag, "opts="), ";")
		default:
			panic("emulator: bad property flag " + flag + " in " + s)
		}
	}
	return p
}

// DefaultSizes spreads total records over the object types the way a
// typical portal holds them (contacts most, products fewest), every type
// including the custom object and conversations getting at least one.
func DefaultSizes(total int) map[string]int {
	weights := []struct {
		name string
		pct  int
	}{
		{"contacts", 40}, {"companies", 10}, {"deals", 14}, {"tickets", 10}, {"products", 2},
		{"calls", 10}, {"tasks", 8}, {"vehicles", 3}, {conversationsName, 3},
	}
	out := make(map[string]int, len(weights))
	for _, w := range weights {
		out[w.name] = max(total*w.pct/100, 1)
	}
	return out
}
