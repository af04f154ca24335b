@week1 @monday
Feature: Week 1 Monday - kickoff, uploading and downloading, data setup
  The CRR team sets up the plan's markets; participants check that they can see them, upload a
  file, download public and private data and read their messages through the APIs.

  Background:
    Given the Market Sim plan is set up
    And it is Monday 10:00 of week 1
    And I am the participant

  @plan:W1-MON-DATA-SETUP
  Scenario: The plan's markets are set up for the structured weeks
    Then the market "ALLOC_MN_2026_M03_T1" is listed among the active allocation markets
    And the market "ALLOC_MN_2026_M03_T1" has status "OPEN"
    And the market "AUC_MN_2026_M03" has status "PREP"
    And the market "ALLOC_AN_2026_T1" offers the periods "2026_S01, 2026_S02, 2026_S03, 2026_S04"
    And the market "AUC_AN_2026" offers the periods "2026_S01, 2026_S02, 2026_S03, 2026_S04"

  @plan:W1-MON-FILE-UPLOAD @plan:W1-MON-API @allocation @monthly
  Scenario: Uploading a participant's nomination file through the API
    Given I work in the monthly allocation market
    When I create the nomination portfolio "Kickoff upload" from the file "nominations_monthly.csv"
    Then the request succeeds
    And the nomination portfolio "Kickoff upload" holds 3 nominations
    And my nomination portfolio list contains "Kickoff upload"

  @plan:W1-MON-DOWNLOADS
  Scenario: Downloading public and private data
    When I download "SOURCE_SINK" for "ALLOC_MN_2026_M03_T1" as JSON
    Then I receive a ZIP archive holding JSON data
    When I download "PUBLIC_EXISTING_CRR" as CSV
    Then I receive a ZIP archive holding CSV data
    When I download "PRIVATE_EXISTING_CRR_AUCTION" as JSON
    Then I receive a ZIP archive holding JSON data

  @plan:W1-MON-MESSAGES
  Scenario: Reading public and private messages
    When the CRR team publishes the message "Market Sim week 1 is open"
    And the CRR team sends me the private message "Your certificate renews in May"
    Then I can read the public message "Market Sim week 1 is open"
    And I can read the private message "Your certificate renews in May"

  @plan:W1-MON-MESSAGES @negative
  Scenario: Another participant cannot read my private messages
    When participant "WCAL" asks for my private messages
    Then the request is refused with error "SEC0001"

  @plan:W1-MON-API @negative
  Scenario: A certificate provisioned for only some services is refused elsewhere
    Given I am participant "YCAL" using the "ycal-partial" certificate
    When I list my nomination portfolios in the market "ALLOC_MN_2026_M03_T1"
    Then the request is refused with HTTP 403
